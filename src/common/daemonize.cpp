#include "common/daemonize.hpp"

#include "common/own_pid_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace chos::platform {

Result<Daemon> Daemon::detach(bool foreground)
{
    Daemon d;
    if (foreground)
        return d;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return sys_error("cannot create a pipe");
    Fd rd(fds[0]), wr(fds[1]);
    const pid_t pid = ::fork();
    if (pid < 0)
        return sys_error("cannot fork");
    if (pid > 0) {
        wr.reset();
        char verdict = 1;
        ssize_t n;
        do
            n = ::read(rd.get(), &verdict, 1);
        while (n < 0 && errno == EINTR);
        ::_exit(n == 1 && verdict == 0 ? 0 : 1);
    }
    rd.reset();
    if (::setsid() < 0)
        return sys_error("cannot start a new session");
    if (::chdir("/") != 0)
        return sys_error("cannot change directory to", "/");
    d.pipe_ = std::move(wr);
    d.detached_ = true;
    return d;
}

void Daemon::ready() noexcept
{
    if (!pipe_)
        return;
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            ::close(null);
    }
    const char ok = 0;
    (void)!::write(pipe_.get(), &ok, 1);
    pipe_.reset();
}

void Daemon::failed() noexcept
{
    if (!pipe_)
        return;
    const char bad = 1;
    (void)!::write(pipe_.get(), &bad, 1);
    pipe_.reset();
}

Result<> announce_serving(Daemon& daemon, OwnPidFile& pid_file, void (*quiet)())
{
    if (auto ok = pid_file.write(::getpid()); !ok)
        return ok;
    if (daemon.detached()) {
        quiet();
        daemon.ready();
    }
    return {};
}

} // namespace chos::platform
