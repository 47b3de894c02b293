// chos-linkfs as chos-setup sees it (see daemon.hpp).
#include "setup/daemon.hpp"

#include "setup/mounts.hpp"
#include "setup/trusted_dir.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chos::setup {

namespace {

using namespace std::chrono_literals;

constexpr auto start_timeout = 5s;        // mount up and pid file written
constexpr auto answer_timeout = 2s;       // one readlink round trip, normally ~20 us
constexpr auto term_timeout = 5s;         // SIGTERM -> exit (libfuse unmounts on the way out)
constexpr auto kill_timeout = 2s;
constexpr auto poll_interval = 20ms;

// glibc 2.36's <sys/pidfd.h> lacks extern "C" (fixed in 2.37), so C++ cannot link
// its wrappers: call the system calls directly.
int pidfd_open(pid_t pid)
{
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_signal(int pidfd, int sig)
{
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

Result<Fd> open_run_dir(const DaemonPlace& place)
{
    Fd fd(::open(place.run_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open directory", place.run_dir);
    if (auto ok = check_trusted_directory(fd.get(), place.run_dir); !ok)
        return std::unexpected(ok.error());
    return fd;
}

// The pid in <run_dir>/linkfs.pid, 0 when there is no such file. Only a root-owned
// regular file is believed (SECURITY.md F: a planted pid file must not make us
// signal someone else's process).
Result<pid_t> read_pid_file(const DaemonPlace& place)
{
    const std::string shown = place.run_dir + "/" + pid_file_name;
    auto dir = open_run_dir(place);
    if (!dir)
        return std::unexpected(dir.error());
    Fd fd(::openat(dir->get(), pid_file_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return 0;
        return sys_error("cannot open", shown);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return sys_error("cannot stat", shown);
    if (!S_ISREG(st.st_mode) || st.st_uid != 0)
        return error("refusing pid file", shown, "is not a root-owned regular file");
    std::array<char, 32> buf{};
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0)
        return sys_error("cannot read", shown);
    std::string_view text(buf.data(), static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc{} || end != text.data() + text.size() || pid <= 1)
        return 0; // garbage: no usable pid, treated like no file
    return pid;
}

void remove_pid_file(const DaemonPlace& place, pid_t expected)
{
    auto current = read_pid_file(place);
    if (!current || (*current != 0 && expected != 0 && *current != expected))
        return; // a new daemon already wrote its own
    if (auto dir = open_run_dir(place))
        (void)::unlinkat(dir->get(), pid_file_name, 0);
}

std::string read_small(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        return {};
    std::array<char, 512> buf{};
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string();
}

// Is pid a chos-linkfs? A pid file can outlive its daemon and the pid be reused:
// the process name must match too (comm, cut at 15 bytes by the kernel).
bool is_linkfs(pid_t pid, const DaemonPlace& place)
{
    std::string comm = read_small("/proc/" + std::to_string(pid) + "/comm");
    if (!comm.empty() && comm.back() == '\n')
        comm.pop_back();
    if (comm.empty())
        return false;
    std::string own = place.linkfs.substr(place.linkfs.rfind('/') + 1);
    return comm == std::string("chos-linkfs") || comm == own.substr(0, 15);
}

// State letter from /proc/<pid>/stat (after the parenthesized name).
char process_state(pid_t pid)
{
    const std::string stat = read_small("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '?';
}

std::string mount_point_path(const DaemonPlace& place)
{
    return place.tree->path + "/" + link_mount_point;
}

Result<bool> link_mounted(const DaemonPlace& place)
{
    auto mounts = read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    const MountInfo* top = top_mount_at(*mounts, place.tree->real + "/" + link_mount_point);
    return top != nullptr && (top->fstype == "fuse" || top->fstype.starts_with("fuse."));
}

// Wait for a pidfd to become readable (the process exited).
bool wait_exit(int pidfd, std::chrono::milliseconds timeout)
{
    pollfd p{pidfd, POLLIN, 0};
    int r;
    do
        r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    while (r < 0 && errno == EINTR);
    return r > 0;
}

// readlink <tree>/.chos/fs/link from a child we can abandon: a FUSE request to a
// stopped daemon blocks its caller, so this process never makes one itself.
LinkAnswer ask_link(const DaemonPlace& place, std::string& detail)
{
    const std::string link = mount_point_path(place) + "/link";
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
    Fd pidfd(pidfd_open(child));
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

Result<> detach_link_mount(const DaemonPlace& place)
{
    auto mounted = link_mounted(place);
    if (!mounted)
        return std::unexpected(mounted.error());
    if (!*mounted)
        return {};
    // Opening the mount root O_PATH makes no FUSE request, dead daemon or not.
    auto fd = open_beneath(place.tree->root.get(), link_mount_point, O_PATH | O_DIRECTORY,
                           mount_point_path(place));
    if (!fd)
        return std::unexpected(fd.error());
    return detach(fd->get(), mount_point_path(place));
}

// Signal the daemon of the pid file to exit and wait for it.
Result<> terminate(const DaemonPlace& place, pid_t pid)
{
    Fd pidfd(pidfd_open(pid));
    if (!pidfd)
        return errno == ESRCH ? Result<>{} : sys_error("cannot open process", std::to_string(pid));
    // Checked again through the pidfd's lifetime: pid reuse after this point can no
    // longer redirect the signal.
    if (!is_linkfs(pid, place))
        return {};
    (void)pidfd_signal(pidfd.get(), SIGTERM);
    (void)pidfd_signal(pidfd.get(), SIGCONT); // a stopped daemon must see it
    if (wait_exit(pidfd.get(), term_timeout))
        return {};
    (void)pidfd_signal(pidfd.get(), SIGKILL);
    if (wait_exit(pidfd.get(), kill_timeout))
        return {};
    return error("cannot stop chos-linkfs", std::to_string(pid), "it does not exit, even after SIGKILL");
}

Result<pid_t> launch(const DaemonPlace& place)
{
    if (::access(place.linkfs.c_str(), X_OK) != 0)
        return sys_error("cannot run chos-linkfs", place.linkfs);
    const std::string mount_point = mount_point_path(place);
    // Everything the child needs is built before fork: afterwards only
    // async-signal-safe calls.
    std::string arg0 = "chos-linkfs", opt = "--config";
    std::string config_source = place.config_source, target = mount_point;
    std::array<char*, 5> argv{arg0.data(), opt.data(), config_source.data(), target.data(), nullptr};
    // A clean environment: the daemon's behaviour must not depend on the shell
    // chos-setup was run from.
    std::string path_env = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    std::array<char*, 2> envp{path_env.data(), nullptr};
    const char* binary = place.linkfs.c_str();

    const pid_t child = ::fork();
    if (child < 0)
        return sys_error("cannot start chos-linkfs", place.linkfs);
    if (child == 0) {
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        // The daemon gets stdin from /dev/null, our stdout and stderr (its errors
        // before it detaches), and no other descriptor (the run_dir lock above all).
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            ::dup2(null, 0);
            ::close(null);
        }
        ::close_range(3, ~0U, 0);
        ::execve(binary, argv.data(), envp.data());
        ::_exit(127);
    }

    auto give_up = [&](Error failure, bool child_running) -> Result<pid_t> {
        if (child_running) {
            ::kill(child, SIGKILL);
            (void)::waitpid(child, nullptr, 0);
        }
        if (auto pid = read_pid_file(place); pid && *pid != 0)
            (void)terminate(place, *pid);
        (void)detach_link_mount(place);
        remove_pid_file(place, 0);
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
        auto pid = read_pid_file(place);
        if (!pid)
            return give_up(pid.error(), child_running);
        if (*mounted && *pid != 0 && is_linkfs(*pid, place)) {
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
                                                            pid_file_name + "'"
                                                      : "nothing mounted") +
                                     " after " + std::to_string(start_timeout.count()) + " s"},
                           child_running);
        std::this_thread::sleep_for(poll_interval);
    }
}

} // namespace

Result<DaemonProbe> probe_daemon(const DaemonPlace& place)
{
    DaemonProbe probe;
    auto pid = read_pid_file(place);
    if (!pid)
        return std::unexpected(pid.error());
    probe.pid = *pid;
    if (probe.pid != 0 && is_linkfs(probe.pid, place)) {
        const char state = process_state(probe.pid);
        probe.running = state != 'Z' && state != 'X' && state != '?';
        probe.stopped = state == 'T' || state == 't';
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

Result<DaemonAction> ensure_daemon(const DaemonPlace& place)
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

Result<> stop_daemon(const DaemonPlace& place)
{
    auto pid = read_pid_file(place);
    if (!pid)
        return std::unexpected(pid.error());
    const bool signalled = *pid != 0 && is_linkfs(*pid, place);
    if (signalled)
        if (auto ok = terminate(place, *pid); !ok)
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
    remove_pid_file(place, *pid);
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

} // namespace chos::setup
