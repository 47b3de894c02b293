// The namespace holder (see ns_holder.hpp).
#include "link/ns_holder.hpp"

#include "common/file_io.hpp"
#include "common/pid_file.hpp"
#include "common/pidfd.hpp"
#include "common/root_only.hpp"
#include "link/ns_view.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace chos::link {

namespace {

using namespace std::chrono_literals;

constexpr auto term_timeout = 5s;
constexpr auto kill_timeout = 2s;
constexpr int ready_fd = 3; // the pipe end the holder says "ok" (or why not) on

// The holder's own state (only ever set in the holder process).
std::vector<GuardedNamespace> held;

// run_dir, root's alone, open for *at() calls that write in it.
Result<Fd> open_run_dir(const std::string& run_dir)
{
    Fd fd(::open(run_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open directory", run_dir);
    if (auto ok = platform::check_root_only(fd.get(), platform::FileKind::directory, "refusing directory", run_dir);
        !ok)
        return std::unexpected(ok.error());
    return fd;
}

unsigned long long inode_of(int fd)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

// The holder's work, up to the point where it holds everything and has said so.
Result<> hold(const config::Config& config)
{
    NsRecord record;
    record.pid = ::getpid();
    record.start_time = platform::process_start_time(record.pid);
    Fd host(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!host)
        return sys_error("cannot open the host's mount namespace");
    record.host = {host.get(), inode_of(host.get())};
    held.push_back({"", host.get(), config.tree});
    for (const auto& env : config.environments) {
        if (env.is_host())
            continue; // the host environment is the host's own namespace, never chrooted
        auto ns = build_environment_namespace(config, env);
        // Back to the host's namespace whatever happened (the half-built one dies with
        // its last fd).
        if (::setns(host.get(), CLONE_NEWNS) != 0)
            return sys_error("cannot return to the host's mount namespace");
        // An image environment start or reload left out (its image refused): no
        // namespace, the others are held (docs/images.md).
        if (!ns && env.is_image() && ns.error().err == ENOENT)
            continue;
        if (!ns)
            return std::unexpected(ns.error());
        record.environments[env.name] = {ns->get(), inode_of(ns->get())};
        held.push_back({env.name, ns->get(), config.tree});
        (void)ns->release(); // held until the holder exits
    }
    (void)host.release();
    auto dir = open_run_dir(config.run_dir);
    if (!dir)
        return std::unexpected(dir.error());
    if (auto ok = platform::replace_file(dir->get(), ns_record_name, encode(record), 0600, config.run_dir); !ok)
        return ok;
    return platform::write_pid_file(dir->get(), ns_pid_file_name, record.pid, config.run_dir);
}

[[noreturn]] void holder_main(const config::Config& config)
{
    ::prctl(PR_SET_NAME, ns_holder_comm);
    ::prctl(PR_SET_DUMPABLE, 0); // no core with the namespaces' fds; /proc/<pid> stays root's
    ::setsid();
    sigset_t wait_for;
    ::sigemptyset(&wait_for);
    ::sigaddset(&wait_for, SIGTERM);
    ::sigaddset(&wait_for, SIGINT);
    ::sigprocmask(SIG_SETMASK, &wait_for, nullptr); // taken by sigwaitinfo below
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    std::string answer;
    if (auto ok = hold(config); ok)
        answer = "ok\n";
    else
        answer = ok.error().str() + "\n";
    (void)platform::write_all(ready_fd, answer, "pipe");
    ::close(ready_fd);
    if (answer != "ok\n")
        ::_exit(1);
    // Nothing to do but hold: the guard of late mounts (issue 12, item 4) polls the
    // namespaces of held_namespaces() here.
    for (;;) {
        siginfo_t info{};
        if (::sigwaitinfo(&wait_for, &info) > 0)
            break;
    }
    if (auto dir = open_run_dir(config.run_dir);
        dir && platform::read_pid_file(dir->get(), ns_pid_file_name, ns_pid_file_name).value_or(0) == ::getpid()) {
        (void)::unlinkat(dir->get(), ns_record_name, 0);
        platform::remove_pid_file(dir->get(), ns_pid_file_name, ::getpid());
    }
    ::_exit(0);
}

} // namespace

Result<pid_t> start_holder(const SetupPlace&, const config::Config& config)
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return sys_error("cannot start chos-nsd");
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    const pid_t child = ::fork();
    if (child < 0)
        return sys_error("cannot start chos-nsd");
    if (child == 0) {
        // Only the pipe: not the run_dir lock, not the tree, not our caller's terminal.
        ::dup2(write_end.get(), ready_fd);
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0)
            for (int fd = 0; fd < 3; ++fd)
                ::dup2(null, fd);
        ::close_range(ready_fd + 1, ~0U, 0);
        if (::chdir("/") != 0)
            ::_exit(1);
        holder_main(config);
    }
    write_end.reset();
    // Building takes ~1-5 ms per environment; be generous on a loaded machine.
    const int timeout_ms = 20000 + 100 * static_cast<int>(config.environments.size());
    std::string answer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{read_end.get(), POLLIN, 0};
        const int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ::kill(child, SIGKILL);
            (void)::waitpid(child, nullptr, 0);
            return error("chos-nsd did not come up", "", "no answer in " + std::to_string(timeout_ms / 1000) + " s");
        }
        char buf[512];
        const ssize_t got = ::read(read_end.get(), buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        answer.append(buf, static_cast<std::size_t>(got));
    }
    if (answer != "ok\n") {
        (void)::waitpid(child, nullptr, 0);
        while (!answer.empty() && answer.back() == '\n')
            answer.pop_back();
        return error("chos-nsd failed", "", answer.empty() ? "it exited without a word" : answer);
    }
    return child;
}

Result<pid_t> holder_pid(const SetupPlace& place)
{
    auto dir = open_run_dir(place.run_dir);
    if (!dir)
        return std::unexpected(dir.error());
    return platform::read_pid_file(dir->get(), ns_pid_file_name, place.run_dir + "/" + ns_pid_file_name);
}

Result<> stop_holder(const SetupPlace& place, pid_t pid)
{
    if (pid != 0) {
        Fd pidfd = platform::pidfd_open(pid);
        if (pidfd && platform::daemon_state(pid, ns_holder_comm) != platform::DaemonState::gone) {
            (void)platform::pidfd_send_signal(pidfd.get(), SIGTERM);
            (void)platform::pidfd_send_signal(pidfd.get(), SIGCONT);
            if (platform::pidfd_poll(pidfd.get(), static_cast<int>(std::chrono::milliseconds(term_timeout).count())) <= 0) {
                (void)platform::pidfd_send_signal(pidfd.get(), SIGKILL);
                if (platform::pidfd_poll(pidfd.get(), static_cast<int>(std::chrono::milliseconds(kill_timeout).count())) <= 0)
                    return error("cannot stop chos-nsd", std::to_string(pid), "it does not exit, even after SIGKILL");
            }
            (void)::waitpid(pid, nullptr, WNOHANG); // ours when this chos-setup started it
        }
    }
    // A holder killed with SIGKILL leaves its files: they are removed when still its own.
    auto dir = open_run_dir(place.run_dir);
    if (!dir)
        return std::unexpected(dir.error());
    auto current = platform::read_pid_file(dir->get(), ns_pid_file_name, place.run_dir + "/" + ns_pid_file_name);
    if (current && (*current == pid || *current == 0)) {
        (void)::unlinkat(dir->get(), ns_record_name, 0);
        platform::remove_pid_file(dir->get(), ns_pid_file_name, pid);
    }
    return {};
}

std::vector<GuardedNamespace> held_namespaces()
{
    return held;
}

} // namespace chos::link
