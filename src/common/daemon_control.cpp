// Starting and stopping a daemon (see daemon_control.hpp).
#include "common/daemon_control.hpp"

#include "common/pid_file.hpp"
#include "common/pidfd.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace chos::platform {

Result<pid_t> spawn_daemon(const std::string& binary, std::string_view comm, const std::vector<std::string>& args)
{
    return spawn_program(binary, comm, args, {});
}

Result<pid_t> spawn_program(const std::string& binary, std::string_view comm, const std::vector<std::string>& args,
                            const std::vector<std::string>& env)
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
    std::vector<std::string> env_words{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    env_words.insert(env_words.end(), env.begin(), env.end());
    std::vector<char*> envv;
    for (auto& w : env_words)
        envv.push_back(w.data());
    envv.push_back(nullptr);
    char** envp = envv.data();
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

Result<int> wait_program(pid_t pid, std::string_view comm)
{
    int status = 0;
    pid_t r;
    do
        r = ::waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return sys_error("cannot wait for " + std::string(comm), std::to_string(pid));
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
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
