#include "enter/as_user.hpp"

#include "common/fd.hpp"
#include "common/pidfd.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace chos::enter {

namespace {

constexpr int exit_cannot_drop = 125;

std::int64_t now_ms()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// In the child: the user's ids for good, verified (setuid(0) must fail).
bool become_user(const config::User& user) noexcept
{
    return ::setgroups(user.groups.size(), user.groups.data()) == 0 &&
           ::setresgid(user.gid, user.gid, user.gid) == 0 && ::setresuid(user.uid, user.uid, user.uid) == 0 &&
           ::setuid(0) != 0;
}

// In the child: root in every id, out of the caller's reach (as_user.hpp).
bool become_root_apart() noexcept
{
    if (::setsid() < 0 || ::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0 ||
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return false;
    // Limits the caller chose (a CPU second, no file descriptor, a tiny address space)
    // would make the lookup fail or stop half way: the host's defaults instead.
    struct Limit {
        int resource;
        rlim_t soft, hard;
    };
    static constexpr Limit limits[] = {
        {RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY},   {RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY},  {RLIMIT_STACK, 8 << 20, RLIM_INFINITY},
        {RLIMIT_CORE, 0, 0},                          {RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY},
        {RLIMIT_NOFILE, 1024, 4096},
    };
    for (const auto& l : limits) {
        const rlimit r{l.soft, l.hard};
        if (::setrlimit(l.resource, &r) != 0)
            return false;
    }
    return ::setpriority(PRIO_PROCESS, 0, 0) == 0;
}

using Become = bool (*)(const void* who) noexcept;

ChildOutput run_child(Become become, const void* who, ChildBody body, const void* arg, std::size_t max,
                      int timeout_ms)
{
    ChildOutput result;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return result;
    Fd in(fds[0]), out(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0)
        return result;
    if (pid == 0) {
        if (!become(who))
            ::_exit(exit_cannot_drop);
        body(out.get(), arg);
        ::_exit(0);
    }
    result.started = true;
    out.reset();
    const Fd child = platform::pidfd_open(pid);

    const std::int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        const std::int64_t left = deadline - now_ms();
        if (left <= 0) {
            result.timed_out = true;
            break;
        }
        pollfd p{in.get(), POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            result.timed_out = r == 0;
            break;
        }
        char buf[4096];
        const ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            // End of output: let it exit by itself, within the same deadline.
            const std::int64_t rest = deadline - now_ms();
            if (child.valid() && (rest <= 0 || platform::pidfd_poll(child.get(), static_cast<int>(rest)) == 0))
                result.timed_out = true;
            break;
        }
        result.data.append(buf, static_cast<std::size_t>(n));
        if (result.data.size() > max)
            break;
    }
    // Whatever it is doing now, the child has had its say.
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
    result.dropped = !(WIFEXITED(result.status) && WEXITSTATUS(result.status) == exit_cannot_drop);
    if (result.data.size() > max + 1)
        result.data.resize(max + 1);
    return result;
}

} // namespace

bool ChildOutput::complete(std::size_t max) const
{
    return started && dropped && !timed_out && data.size() <= max && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

ChildOutput run_as_user(const config::User& user, ChildBody body, const void* arg, std::size_t max,
                        int timeout_ms)
{
    const Become as_user = [](const void* who) noexcept {
        return become_user(*static_cast<const config::User*>(who));
    };
    return run_child(as_user, &user, body, arg, max, timeout_ms);
}

ChildOutput run_as_root_apart(ChildBody body, const void* arg, std::size_t max, int timeout_ms)
{
    const Become apart = [](const void*) noexcept { return become_root_apart(); };
    return run_child(apart, nullptr, body, arg, max, timeout_ms);
}

} // namespace chos::enter
