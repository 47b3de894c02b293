// Starting and stopping a daemon (see daemon_control.hpp).
#include "common/daemon_control.hpp"

#include "common/pid_file.hpp"
#include "common/pidfd.hpp"

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace chos::platform {

Result<pid_t> spawn_daemon(const std::string& binary, std::string_view comm, const std::vector<std::string>& args)
{
    if (::access(binary.c_str(), X_OK) != 0)
        return sys_error("cannot run " + std::string(comm), binary);
    // Everything the child needs is built before fork: afterwards only
    // async-signal-safe calls.
    std::vector<std::string> words{std::string(comm)};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);
    std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {path_env.data(), nullptr};
    const char* file = binary.c_str();

    const pid_t child = ::fork();
    if (child < 0)
        return sys_error("cannot start " + std::string(comm), binary);
    if (child == 0) {
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            ::dup2(null, 0);
            ::close(null);
        }
        ::close_range(3, ~0U, 0);
        ::execve(file, argv.data(), envp);
        ::_exit(127);
    }
    return child;
}

Result<> terminate_daemon(pid_t pid, std::string_view comm, std::chrono::milliseconds grace)
{
    Fd pidfd = pidfd_open(pid);
    if (!pidfd)
        return errno == ESRCH ? Result<>{} : sys_error("cannot open process", std::to_string(pid));
    // Checked again through the pidfd's lifetime: pid reuse after this point can no
    // longer redirect the signal.
    if (daemon_state(pid, comm) == DaemonState::gone)
        return {};
    (void)pidfd_send_signal(pidfd.get(), SIGTERM);
    (void)pidfd_send_signal(pidfd.get(), SIGCONT); // a stopped daemon must see it
    if (pidfd_poll(pidfd.get(), static_cast<int>(grace.count())) > 0)
        return {};
    (void)pidfd_send_signal(pidfd.get(), SIGKILL);
    if (pidfd_poll(pidfd.get(), 2000) > 0)
        return {};
    return error("cannot stop " + std::string(comm), std::to_string(pid), "it does not exit, even after SIGKILL");
}

} // namespace chos::platform
