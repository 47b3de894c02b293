// Step 1: a sane process before anything privileged happens.
#include "enter/steps.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::enter {

Result<CallerState> sanitize(int argc)
{
    // pkexec CVE-2021-4034: with argc 0, argv[1] is envp[0].
    if (argc < 1)
        return error("refusing to run", "", "argc is 0");

    // A closed 0-2 would make the first file we open become someone's stdout.
    // These three are the only fds the launcher opens without O_CLOEXEC: they are
    // the child's stdio, exactly as a shell would give it.
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int nul = ::open("/dev/null", O_RDWR | O_NOCTTY);
        if (nul < 0)
            return sys_error("cannot open", "/dev/null");
        if (nul != fd) { // lower fds are open, so open() returns exactly fd
            ::close(nul);
            return error("cannot open", "/dev/null", "standard descriptors not in order");
        }
    }

    CallerState caller;
    caller.umask = ::umask(022);
    sigset_t all;
    ::sigfillset(&all);
    // Blocked signals would let the caller freeze us mid-setup without SIGSTOP.
    if (::sigprocmask(SIG_SETMASK, &all, &caller.blocked) != 0)
        return sys_error("cannot set the signal mask");
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        // One call sets the default and returns the caller's disposition.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigemptyset(&dfl.sa_mask);
        struct sigaction old {};
        if (::sigaction(sig, &dfl, &old) != 0)
            continue; // a realtime signal glibc reserves
        if (old.sa_handler == SIG_IGN)
            caller.ignored_signals.push_back(sig);
    }
    sigset_t none;
    ::sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
        return sys_error("cannot set the signal mask");
    return caller;
}

void restore_caller_state(const CallerState& caller) noexcept
{
    ::umask(caller.umask);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigemptyset(&ign.sa_mask);
    for (int sig : caller.ignored_signals)
        ::sigaction(sig, &ign, nullptr);
    ::sigprocmask(SIG_SETMASK, &caller.blocked, nullptr);
}

} // namespace chos::enter
