// chos-guard as chos-setup sees it (see guard_daemon.hpp).
#include "setup/guard_daemon.hpp"

#include "chos_build_config.hpp"
#include "common/daemon_control.hpp"
#include "common/layout.hpp"
#include "common/pid_file.hpp"
#include "common/pidfd.hpp"
#include "common/root_only.hpp"

#include <fcntl.h>
#include <sys/wait.h>

namespace chos::setup {

namespace {

// chos-guard detaches once its first pass is done and its pid file written; a pass is
// a mountinfo read and a few mount_setattr calls.
constexpr int start_timeout_ms = 5000;

const std::string pid_name(layout::guard_pid_file_name);

std::string binary(const Context& context)
{
    return context.options.guard_path.empty() ? std::string(CHOS_SBINDIR "/chos-guard") : context.options.guard_path;
}

std::string shown_pid_file(const Context& context)
{
    return context.config.run_dir + "/" + pid_name;
}

Result<pid_t> read_pid(const Context& context, int run_dir_fd)
{
    return platform::read_pid_file(run_dir_fd, pid_name, shown_pid_file(context));
}

Result<pid_t> launch(const Context& context, int run_dir_fd)
{
    const std::string program = binary(context);
    auto child = platform::spawn_daemon(program, platform::guard_comm, {"--config", context.config.source});
    if (!child)
        return std::unexpected(child.error());
    // Its parent half exits 0 once the daemon watches, 1 (reason on stderr) otherwise.
    Fd pidfd = platform::pidfd_open(*child);
    if (!pidfd || platform::pidfd_poll(pidfd.get(), start_timeout_ms) <= 0) {
        ::kill(*child, SIGKILL);
        (void)::waitpid(*child, nullptr, 0);
        return error("chos-guard did not come up", program,
                     "no verdict in " + std::to_string(start_timeout_ms / 1000) + " s");
    }
    int status = 0;
    while (::waitpid(*child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return error("chos-guard failed", program,
                     WIFEXITED(status) ? (WEXITSTATUS(status) == 127 ? std::string("cannot execute it")
                                                                     : "exited with status " +
                                                                           std::to_string(WEXITSTATUS(status)))
                                       : "killed by signal " + std::to_string(WTERMSIG(status)));
    auto pid = read_pid(context, run_dir_fd);
    if (!pid)
        return std::unexpected(pid.error());
    if (*pid == 0 || platform::daemon_state(*pid, platform::guard_comm) != platform::DaemonState::running)
        return error("chos-guard did not come up", shown_pid_file(context), "no live chos-guard in it");
    return *pid;
}

} // namespace

Result<GuardAction> ensure_guard(const Context& context, int run_dir_fd, bool renew)
{
    auto pid = read_pid(context, run_dir_fd);
    if (!pid)
        return std::unexpected(pid.error());
    const auto state = platform::daemon_state(*pid, platform::guard_comm);
    const bool running = *pid != 0 && state == platform::DaemonState::running;
    if (running && !renew)
        return GuardAction::kept;
    const bool replacing = *pid != 0 && state != platform::DaemonState::gone;
    // A renewal stops the old guard before the new one starts (one guard.pid): a mount
    // arriving in between is fixed by the new guard's first pass, before start returns.
    if (auto ok = stop_guard(context, run_dir_fd); !ok)
        return std::unexpected(ok.error());
    auto started = launch(context, run_dir_fd);
    if (!started)
        return std::unexpected(started.error());
    return running ? GuardAction::renewed : replacing ? GuardAction::restarted : GuardAction::started;
}

Result<> stop_guard(const Context& context, int run_dir_fd)
{
    auto pid = read_pid(context, run_dir_fd);
    if (!pid)
        return std::unexpected(pid.error());
    if (*pid == 0)
        return {};
    if (auto ok = platform::terminate_daemon(*pid, platform::guard_comm); !ok)
        return ok;
    // It removes its own pid file; one killed with SIGKILL leaves it behind.
    platform::remove_pid_file(run_dir_fd, pid_name, *pid);
    return {};
}

std::string guard_status(const Context& context, bool& ok)
{
    ok = false;
    Fd dir(::open(context.config.run_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir)
        return "no run directory '" + context.config.run_dir + "'";
    if (auto trusted = platform::check_root_only(dir.get(), platform::FileKind::directory, "refusing directory",
                                                 context.config.run_dir);
        !trusted)
        return trusted.error().str();
    auto pid = read_pid(context, dir.get());
    if (!pid)
        return pid.error().str();
    if (*pid == 0)
        return "chos-guard not running (no pid file): late mounts keep their own flags";
    switch (platform::daemon_state(*pid, platform::guard_comm)) {
    case platform::DaemonState::running:
        ok = true;
        return "chos-guard pid " + std::to_string(*pid) + " running, watching " + context.config.tree;
    case platform::DaemonState::stopped:
        return "chos-guard pid " + std::to_string(*pid) + " stopped: late mounts keep their own flags";
    case platform::DaemonState::gone:
        break;
    }
    return "chos-guard pid " + std::to_string(*pid) + " not running: late mounts keep their own flags";
}

} // namespace chos::setup
