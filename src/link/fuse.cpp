// The fuse backend, the default: chos-linkfs, a FUSE daemon mounted on
// <tree>/.chos/fs, answers readlink of "link" from the caller's registration
// (chos-linkfs(8), docs/architecture.md "The link").
//
// chos-setup starts it, keeps a healthy one, replaces a dead or hung one
// (linkfs_daemon.hpp), and stops it first at stop. A launch refuses to start while the
// daemon of <run_dir>/linkfs.pid is gone or stopped (a SIGSTOPped daemon would hang it
// on its first lookup: docs/threat-model.md, class L: daemon faults), and after registering
// makes the daemon forget a cached answer for its pid (exec keeps the pid).
#include "link/backend.hpp"

#include "common/layout.hpp"
#include "common/pid_file.hpp"
#include "link/linkfs_daemon.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace chos::link {

namespace {

constexpr const char* not_running = "chos-linkfs is not running (see 'chos-setup status')";

class Fuse final : public Backend {
public:
    std::string_view name() const noexcept override { return "fuse"; }

    Result<Report> serve(const SetupPlace& place, const config::Config&) const override
    {
        auto action = ensure_daemon(place);
        if (!action)
            return std::unexpected(action.error());
        Report report;
        switch (*action) {
        case DaemonAction::kept:
            report.note("chos-linkfs already running");
            break;
        case DaemonAction::started:
            if (place.already_up)
                report.say("started chos-linkfs");
            else
                report.note("started chos-linkfs");
            break;
        case DaemonAction::restarted:
            report.say("restarted chos-linkfs (the old one was dead or hung)");
            break;
        }
        return report;
    }

    Result<Report> release(const SetupPlace& place, const config::Config&) const override
    {
        if (auto ok = stop_daemon(place); !ok)
            return std::unexpected(ok.error());
        Report report;
        report.note("stopped chos-linkfs");
        return report;
    }

    Status status(const SetupPlace& place, const config::Config&) const override
    {
        Status status;
        auto probe = probe_daemon(place);
        if (probe) {
            status.lines.emplace_back("daemon", "chos-linkfs " + describe(*probe));
            status.healthy = probe->healthy();
        } else {
            status.lines.emplace_back("daemon", probe.error().str());
            status.healthy = false;
        }
        return status;
    }

    Result<Prior> before_register(const config::Config& config, const registry::Registry& registry,
                                  pid_t self) const override
    {
        // The daemon of the pid file must be alive and not stopped (one read of the
        // pid file, one of /proc/<pid>/stat).
        const std::string pid_path = config.run_dir + "/" + std::string(layout::pid_file_name);
        auto pid = platform::read_pid_file(AT_FDCWD, pid_path, pid_path);
        if (!pid || *pid == 0 || platform::daemon_state(*pid) != platform::DaemonState::running)
            return error(not_running, "", "");
        // exec keeps the pid: the shell that exec'd us may be cached by chos-linkfs in
        // its old environment. It caches registered callers only, and in a cgroup1
        // registry nothing but CHOS moves a process: coming from the host, there is
        // nothing to forget.
        Prior prior;
        if (registry.type() == config::RegistryType::cgroup1) {
            auto before = registry.membership(self);
            prior.may_be_cached = !before || before->registered;
        }
        return prior;
    }

    Result<> after_register(const config::Config& config, const config::Environment&,
                            const Prior& prior) const override
    {
        if (!prior.may_be_cached)
            return {};
        // A lookup of "flush" drops our entry and answers ENOENT (one upcall,
        // 0.1-0.25 ms: docs/architecture.md "The link").
        const std::string flush = layout::in_tree(config.tree, layout::link_dir) + "/" + std::string(layout::flush_name);
        if (::faccessat(AT_FDCWD, flush.c_str(), F_OK, 0) == 0)
            return error("cannot flush the link cache", flush, "it exists (is chos-linkfs mounted?)");
        if (errno != ENOENT) {
            if (errno == ENOTCONN || errno == ECONNABORTED)
                return error(not_running, "", "");
            return sys_error("cannot flush the link cache", flush);
        }
        return {};
    }
};

} // namespace

const Backend& fuse_backend()
{
    static const Fuse backend;
    return backend;
}

} // namespace chos::link
