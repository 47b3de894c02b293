#include "enter/as_user.hpp"

#include "common/fd.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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

} // namespace

ChildOutput run_as_user(const config::User& user, ChildBody body, const void* arg, std::size_t max,
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
        // Drop for good, verified (setuid(0) must fail), before anything else.
        if (::setgroups(user.groups.size(), user.groups.data()) != 0 ||
            ::setresgid(user.gid, user.gid, user.gid) != 0 ||
            ::setresuid(user.uid, user.uid, user.uid) != 0 || ::setuid(0) == 0)
            ::_exit(exit_cannot_drop);
        body(out.get(), arg);
        ::_exit(0);
    }
    result.started = true;
    out.reset();

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
        if (n <= 0)
            break;
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

} // namespace chos::enter
