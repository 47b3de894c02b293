// chos-linkfs as chos-setup sees it (see linkfs_daemon.hpp).
#include "link/linkfs_daemon.hpp"

#include "common/daemon_control.hpp"
#include "common/layout.hpp"
#include "common/mount_ops.hpp"
#include "common/mountinfo.hpp"
#include "common/pid_file.hpp"
#include "common/pidfd.hpp"
#include "common/pinned_open.hpp"
#include "common/root_only.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chos::link {

namespace {

using namespace std::chrono_literals;

constexpr auto start_timeout = 5s;        // mount up and pid file written
constexpr auto answer_timeout = 2s;       // one readlink round trip, normally ~20 us
constexpr auto term_timeout = 5s;         // SIGTERM -> exit (libfuse unmounts on the way out)
constexpr auto poll_interval = 20ms;

const std::string pid_file(layout::pid_file_name);

Result<Fd> open_run_dir(const SetupPlace& place)
{
    Fd fd(::open(place.run_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open directory", place.run_dir);
    if (auto ok = platform::check_root_only(fd.get(), platform::FileKind::directory, "refusing directory",
                                            place.run_dir);
        !ok)
        return std::unexpected(ok.error());
    return fd;
}

// The pid in <run_dir>/linkfs.pid, 0 when there is none.
Result<pid_t> read_pid(const SetupPlace& place)
{
    auto dir = open_run_dir(place);
    if (!dir)
        return std::unexpected(dir.error());
    return platform::read_pid_file(dir->get(), pid_file, place.run_dir + "/" + pid_file);
}

void remove_pid(const SetupPlace& place, pid_t expected)
{
    if (auto dir = open_run_dir(place))
        platform::remove_pid_file(dir->get(), pid_file, expected);
}

std::string mount_point_path(const SetupPlace& place)
{
    return layout::in_tree(place.tree, layout::link_dir);
}

Result<bool> link_mounted(const SetupPlace& place)
{
    auto mounts = platform::read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    const auto* top = platform::top_mount_at(*mounts, layout::in_tree(place.tree_real, layout::link_dir));
    return top != nullptr && (top->fstype == "fuse" || top->fstype.starts_with("fuse."));
}

// Wait for a pidfd to become readable (the process exited); an error is "not yet".
bool wait_exit(int pidfd, std::chrono::milliseconds timeout)
{
    return platform::pidfd_poll(pidfd, static_cast<int>(timeout.count())) > 0;
}

// readlink <tree>/.chos/fs/link from a child we can abandon: a FUSE request to a
// stopped daemon blocks its caller, so this process never makes one itself.
LinkAnswer ask_link(const SetupPlace& place, std::string& detail)
{
    const std::string link = mount_point_path(place) + "/" + std::string(layout::link_name);
    const pid_t child = ::fork();
    if (child < 0) {
        detail = std::strerror(errno);
        return LinkAnswer::fails;
    }
    if (child == 0) {
        // This child may be abandoned in an uninterruptible FUSE wait: it must not
        // hold anything of ours meanwhile -- the run_dir lock, a pipe our caller
        // reads to its end (`chos-setup status | grep`).
        ::close_range(0, ~0U, 0);
        std::array<char, 256> buf{};
        const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size());
        ::_exit(n >= 0 ? 0 : (errno > 0 && errno < 256 ? errno : 255));
    }
    Fd pidfd = platform::pidfd_open(child);
    if (!pidfd) {
        // Without a pidfd there is no bounded wait: give the child up rather than
        // risk blocking on it.
        ::kill(child, SIGKILL);
        detail = std::string("cannot watch the probe: ") + std::strerror(errno);
        return LinkAnswer::fails;
    }
    if (!wait_exit(pidfd.get(), answer_timeout)) {
        ::kill(child, SIGKILL);
        // A request the daemon has already read cannot be interrupted: such a
        // child is not waited for (it is reaped when we exit).
        if (wait_exit(pidfd.get(), 200ms))
            (void)::waitpid(child, nullptr, 0);
        detail = "no answer in " + std::to_string(answer_timeout.count()) + " s";
        return LinkAnswer::hangs;
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return LinkAnswer::answers;
    const int err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    detail = err != 0 && err != 255 ? std::strerror(err) : "readlink failed";
    return err == ENOTCONN ? LinkAnswer::dead : LinkAnswer::fails;
}

Result<> detach_link_mount(const SetupPlace& place)
{
    auto mounted = link_mounted(place);
    if (!mounted)
        return std::unexpected(mounted.error());
    if (!*mounted)
        return {};
    // Opening the mount root O_PATH makes no FUSE request, dead daemon or not.
    auto fd = platform::open_pinned(place.tree_root, std::string(layout::link_dir), O_PATH | O_DIRECTORY,
                                    platform::resolve_beneath, mount_point_path(place));
    if (!fd)
        return std::unexpected(fd.error());
    return platform::detach(fd->get(), mount_point_path(place));
}

// Signal the daemon of the pid file to exit and wait for it.
Result<> terminate(pid_t pid)
{
    return platform::terminate_daemon(pid, platform::linkfs_comm, term_timeout);
}

Result<pid_t> launch(const SetupPlace& place)
{
    const std::string mount_point = mount_point_path(place);
    auto spawned =
        platform::spawn_daemon(place.linkfs, platform::linkfs_comm, {"--config", place.config_source, mount_point});
    if (!spawned)
        return std::unexpected(spawned.error());
    const pid_t child = *spawned;

    auto give_up = [&](Error failure, bool child_running) -> Result<pid_t> {
        if (child_running) {
            ::kill(child, SIGKILL);
            (void)::waitpid(child, nullptr, 0);
        }
        if (auto pid = read_pid(place); pid && *pid != 0)
            (void)terminate(*pid);
        (void)detach_link_mount(place);
        remove_pid(place, 0);
        return std::unexpected(std::move(failure));
    };

    bool child_running = true;
    const auto deadline = std::chrono::steady_clock::now() + start_timeout;
    for (;;) {
        if (child_running) {
            int status = 0;
            const pid_t r = ::waitpid(child, &status, WNOHANG);
            if (r == child) {
                child_running = false;
                // The daemon forks after mounting; its parent's exit status says
                // whether that worked.
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    const std::string why = WIFEXITED(status)
                                                ? (WEXITSTATUS(status) == 127 ? std::string("cannot execute it")
                                                                              : "exited with status " +
                                                                                    std::to_string(WEXITSTATUS(status)))
                                                : "killed by signal " + std::to_string(WTERMSIG(status));
                    return give_up(Error{"chos-linkfs failed", place.linkfs, 0, why}, false);
                }
            }
        }
        auto mounted = link_mounted(place);
        if (!mounted)
            return give_up(mounted.error(), child_running);
        auto pid = read_pid(place);
        if (!pid)
            return give_up(pid.error(), child_running);
        if (*mounted && *pid != 0 && platform::daemon_state(*pid) != platform::DaemonState::gone) {
            std::string detail;
            const LinkAnswer answer = ask_link(place, detail);
            if (answer != LinkAnswer::answers)
                return give_up(Error{"chos-linkfs does not answer", mount_point + "/link", 0, detail},
                               child_running);
            return *pid;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return give_up(Error{"chos-linkfs did not come up", mount_point, 0,
                                 std::string(*mounted ? "mounted, but no live daemon in '" + place.run_dir + "/" +
                                                            pid_file + "'"
                                                      : "nothing mounted") +
                                     " after " + std::to_string(start_timeout.count()) + " s"},
                           child_running);
        std::this_thread::sleep_for(poll_interval);
    }
}

} // namespace

Result<DaemonProbe> probe_daemon(const SetupPlace& place)
{
    DaemonProbe probe;
    auto pid = read_pid(place);
    if (!pid)
        return std::unexpected(pid.error());
    probe.pid = *pid;
    if (probe.pid != 0) {
        const auto state = platform::daemon_state(probe.pid);
        probe.running = state != platform::DaemonState::gone;
        probe.stopped = state == platform::DaemonState::stopped;
    }
    auto mounted = link_mounted(place);
    if (!mounted)
        return std::unexpected(mounted.error());
    probe.mounted = *mounted;
    if (probe.mounted) {
        if (probe.stopped) {
            probe.answer = LinkAnswer::hangs;
            probe.detail = "the daemon is stopped";
        } else {
            probe.answer = ask_link(place, probe.detail);
        }
    }
    return probe;
}

Result<DaemonAction> ensure_daemon(const SetupPlace& place)
{
    auto probe = probe_daemon(place);
    if (!probe)
        return std::unexpected(probe.error());
    if (probe->healthy())
        return DaemonAction::kept;
    const bool replacing = probe->running || probe->mounted;
    // A dead daemon's mount answers ENOTCONN to everyone until it is detached;
    // the new daemon mounts on the same (static) mount point, so every process
    // whose root is the tree sees the new mount at once (P6).
    if (auto ok = stop_daemon(place); !ok)
        return std::unexpected(ok.error());
    auto pid = launch(place);
    if (!pid)
        return std::unexpected(pid.error());
    return replacing ? DaemonAction::restarted : DaemonAction::started;
}

Result<> stop_daemon(const SetupPlace& place)
{
    auto pid = read_pid(place);
    if (!pid)
        return std::unexpected(pid.error());
    const bool signalled = *pid != 0 && platform::daemon_state(*pid) != platform::DaemonState::gone;
    if (signalled)
        if (auto ok = terminate(*pid); !ok)
            return ok;
    // libfuse unmounts on its way out; give it a moment, then detach what is left
    // (a daemon killed with SIGKILL leaves a dead mount behind).
    const auto deadline = std::chrono::steady_clock::now() + (signalled ? 1000ms : 0ms);
    for (;;) {
        auto mounted = link_mounted(place);
        if (!mounted)
            return std::unexpected(mounted.error());
        if (!*mounted)
            break;
        if (std::chrono::steady_clock::now() >= deadline) {
            if (auto ok = detach_link_mount(place); !ok)
                return ok;
            break;
        }
        std::this_thread::sleep_for(poll_interval);
    }
    remove_pid(place, *pid);
    return {};
}

std::string describe(const DaemonProbe& probe)
{
    std::string text;
    if (probe.pid == 0)
        text = "no pid file";
    else if (!probe.running)
        text = "pid " + std::to_string(probe.pid) + " not running";
    else
        text = "pid " + std::to_string(probe.pid) + (probe.stopped ? " stopped" : " running");
    text += probe.mounted ? ", mounted" : ", not mounted";
    switch (probe.answer) {
    case LinkAnswer::none:
        break;
    case LinkAnswer::answers:
        text += ", answers";
        break;
    case LinkAnswer::dead:
        text += ", dead mount (" + probe.detail + ")";
        break;
    case LinkAnswer::fails:
        text += ", fails (" + probe.detail + ")";
        break;
    case LinkAnswer::hangs:
        text += ", does not answer (" + probe.detail + ")";
        break;
    }
    return text;
}

} // namespace chos::link
