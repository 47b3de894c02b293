// Step 4's ~/.chos, read with the user's rights only (SECURITY.md class I,
// CVE-2010-3435): a child drops to the user before it opens anything, refuses
// symlinks, FIFOs and directories, reads at most 4 KiB and is killed after 2 s.
#include "enter/steps.hpp"

#include "common/fd.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace chos::enter {

namespace {

// First byte of the child's answer.
enum Status : unsigned char { ok = 0, missing, not_regular, cannot_open, cannot_read, cannot_drop };

constexpr int timeout_ms = 2000;

[[noreturn]] void child(int out, const config::User& user, const char* path) noexcept
{
    // Async-signal-safe calls only from here on (we forked).
    unsigned char status = ok;
    char buf[max_user_file_size];
    ssize_t len = 0;
    if (::setgroups(user.groups.size(), user.groups.data()) != 0 ||
        ::setresgid(user.gid, user.gid, user.gid) != 0 ||
        ::setresuid(user.uid, user.uid, user.uid) != 0 || ::setuid(0) == 0) {
        status = cannot_drop;
    } else {
        int fd = ::open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat st {};
        if (fd < 0)
            status = (errno == ENOENT || errno == ENOTDIR) ? missing : cannot_open;
        else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            status = not_regular;
        else {
            std::size_t have = 0;
            while (have < sizeof buf) {
                ssize_t r = ::read(fd, buf + have, sizeof buf - have);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0) {
                    status = cannot_read;
                    break;
                }
                if (r == 0)
                    break;
                have += static_cast<std::size_t>(r);
            }
            len = static_cast<ssize_t>(have);
        }
    }
    if (::write(out, &status, 1) == 1 && status == ok && len > 0) {
        ssize_t done = 0;
        while (done < len) {
            ssize_t w = ::write(out, buf + done, static_cast<std::size_t>(len - done));
            if (w <= 0)
                break;
            done += w;
        }
    }
    ::_exit(0);
}

std::int64_t now_ms()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

} // namespace

UserFile read_user_file(const Identity& who, const std::string& name)
{
    UserFile result;
    if (who.home.empty() || who.home[0] != '/') {
        result.absent_reason = "no home directory";
        return result;
    }
    const std::string path = who.home + "/" + name;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        result.absent_reason = "cannot make a pipe";
        return result;
    }
    Fd in(fds[0]), out(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) {
        result.absent_reason = "cannot fork";
        return result;
    }
    if (pid == 0) {
        in.release();
        child(out.get(), who.user, path.c_str());
    }
    out.reset();

    std::string data;
    bool timed_out = false;
    const std::int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        std::int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{in.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            timed_out = r == 0;
            break;
        }
        char buf[1024];
        ssize_t n = ::read(in.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        data.append(buf, static_cast<std::size_t>(n));
        if (data.size() > max_user_file_size + 1)
            break;
    }
    if (timed_out)
        ::kill(pid, SIGKILL);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }

    if (timed_out) {
        result.absent_reason = "reading it took more than 2 s";
        return result;
    }
    if (data.empty()) {
        result.absent_reason = "could not be read";
        return result;
    }
    switch (static_cast<unsigned char>(data[0])) {
    case ok:
        result.text = data.substr(1, max_user_file_size);
        break;
    case missing: result.absent_reason = "does not exist"; break;
    case not_regular: result.absent_reason = "is not a regular file"; break;
    case cannot_open: result.absent_reason = "cannot be opened by the user (or is a symlink)"; break;
    case cannot_read: result.absent_reason = "cannot be read"; break;
    default: result.absent_reason = "could not drop privileges to read it"; break;
    }
    return result;
}

} // namespace chos::enter
