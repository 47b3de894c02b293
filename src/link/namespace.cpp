// The namespace backend (`backend: namespace`, docs/architecture.md "The namespace
// backend"): one mount namespace per environment in which the tree shows that
// environment directly (ns_view.hpp), held by chos-nsd (ns_holder.hpp). A path walk
// crosses no link and no daemon; a launch costs one setns more than a chroot.
//
// chos-setup: serve gives the host's tree a fixed link (<tree>/.chos/fs/link ->
// ../../local: a process of the host sees the host) and starts a new holder, then stops
// the one it replaces; release stops the holder (before the registry is torn down:
// the namespaces hold copies of its hierarchy's mount). Entering: host_view returns a
// caller inside an environment's namespace to the host's, through the holder;
// before_chroot enters the chosen environment's namespace, through the holder. Both
// verify the holder and the namespace first (ns_record.hpp). The mount guard: chos-guard
// watches each environment's namespace beneath the tree (guarded_trees, through the
// holder, verified the same way); every serve makes new namespaces, so chos-setup
// restarts the guard after it and the old ones are let go.
#include "link/backend.hpp"

#include "common/layout.hpp"
#include "common/pid_file.hpp"
#include "common/pinned_open.hpp"
#include "link/ns_holder.hpp"
#include "link/ns_record.hpp"

#include <fcntl.h>
#include <optional>
#include <sched.h>
#include <unistd.h>

namespace chos::link {

namespace {

// What host_view learned, for before_chroot (one launch per process: the launcher,
// one PAM session, one Slurm task; reset by every host_view).
struct Entering {
    std::optional<NsRecord> record;
    Error failure;
};
Entering entering;

Result<> enter_namespace(const NsRecord& record, const HeldNamespace& held, const std::string& shown)
{
    auto ns = open_held(record, held, shown);
    if (!ns)
        return std::unexpected(ns.error());
    // setns needs a single-threaded caller with its own fs_struct: the launcher,
    // sshd's session process and slurmstepd's task are (docs/architecture.md).
    if (::setns(ns->get(), CLONE_NEWNS) != 0)
        return sys_error("cannot enter the mount namespace of", shown);
    if (::chdir("/") != 0)
        return sys_error("cannot chdir", "/");
    return {};
}

class Namespace final : public Backend {
public:
    std::string_view name() const noexcept override { return "namespace"; }

    Result<Report> serve(const SetupPlace& place, const config::Config& config) const override
    {
        // The host's tree answers the host, for good (no daemon, no upcall).
        const std::string fs_shown = layout::in_tree(place.tree, layout::link_dir);
        auto fs = platform::open_pinned(place.tree_root, std::string(layout::link_dir), O_PATH | O_DIRECTORY,
                                        platform::resolve_beneath, fs_shown);
        if (!fs)
            return std::unexpected(fs.error());
        if (auto ok = platform::ensure_symlink_at(fs->get(), std::string(layout::link_name),
                                                  std::string(layout::answer_unregistered), fs_shown);
            !ok)
            return std::unexpected(ok.error());
        auto old = holder_pid(place);
        if (!old)
            return std::unexpected(old.error());
        auto pid = start_holder(place, config);
        if (!pid)
            return std::unexpected(pid.error());
        if (auto ok = stop_holder(place, *old != *pid ? *old : 0); !ok)
            return std::unexpected(ok.error());
        Report report;
        std::size_t n = 0;
        for (const auto& env : config.environments)
            n += env.is_host() ? 0 : 1;
        const std::string what = "chos-nsd (pid " + std::to_string(*pid) + ", " + std::to_string(n) +
                                 (n == 1 ? " namespace)" : " namespaces)");
        if (*old != 0 && platform::daemon_state(*old, ns_holder_comm) == platform::DaemonState::gone)
            report.note("replaced " + what + "; processes inside keep the namespaces they entered");
        else
            report.note("started " + what);
        return report;
    }

    Result<Report> release(const SetupPlace& place, const config::Config&) const override
    {
        auto pid = holder_pid(place);
        if (!pid)
            return std::unexpected(pid.error());
        if (auto ok = stop_holder(place, *pid); !ok)
            return std::unexpected(ok.error());
        Report report;
        report.note("stopped chos-nsd (the environments' namespaces are released)");
        return report;
    }

    Status status(const SetupPlace& place, const config::Config& config) const override
    {
        Status status;
        auto record = read_ns_record(place.run_dir);
        if (!record) {
            status.lines.emplace_back("daemon", record.error().str());
            status.healthy = false;
            return status;
        }
        const auto state = platform::daemon_state(record->pid, ns_holder_comm);
        status.lines.emplace_back("daemon", "chos-nsd pid " + std::to_string(record->pid) +
                                                (state == platform::DaemonState::gone ? " not running" : " running"));
        status.healthy = state != platform::DaemonState::gone;
        for (const auto& env : config.environments) {
            if (env.is_host())
                continue;
            std::string text;
            const auto held = record->environments.find(env.name);
            if (held == record->environments.end()) {
                text = "none (run 'chos-setup reload')";
                status.healthy = false;
            } else if (auto ns = open_held(*record, held->second, env.name); !ns) {
                text = ns.error().str();
                status.healthy = false;
            } else {
                text = "mnt:[" + std::to_string(held->second.inode) + "]";
            }
            status.lines.emplace_back("namespace", env.name + ": " + text);
        }
        return status;
    }

    Result<std::vector<GuardedTree>> guarded_trees(const config::Config& config) const override
    {
        auto record = read_ns_record(config.run_dir);
        if (!record)
            return std::unexpected(record.error());
        std::vector<GuardedTree> trees;
        for (const auto& [name, held] : record->environments) {
            auto ns = open_held(*record, held, name);
            if (!ns)
                return std::unexpected(ns.error());
            trees.push_back({name, std::move(*ns), config.tree});
        }
        return trees;
    }

    bool serve_renews_guarded_trees() const noexcept override { return true; }

    bool keeps_views() const noexcept override { return true; }

    Result<> host_view(const config::Config& config) const override
    {
        entering = {};
        auto record = read_ns_record(config.run_dir);
        if (!record) {
            entering.failure = record.error();
            return {}; // refused at before_chroot: listing and --current still work
        }
        entering.record = std::move(*record);
        // Already in the host's namespace (a launch from the host): nothing to do.
        if (own_mount_namespace() == entering.record->host.inode)
            return {};
        return enter_namespace(*entering.record, entering.record->host, "the host");
    }

    Result<> before_chroot(const config::Config&, const config::Environment& env) const override
    {
        if (!entering.record)
            return std::unexpected(entering.failure);
        const NsRecord& record = *entering.record;
        if (env.is_host()) {
            // No chroot follows: we must be in the host's namespace by now.
            if (own_mount_namespace() != record.host.inode)
                return error("cannot return to the host's mount namespace", "", "chos-nsd is not running");
            return {};
        }
        const auto held = record.environments.find(env.name);
        if (held == record.environments.end())
            return error("environment has no namespace", env.name, "run 'chos-setup reload'");
        return enter_namespace(record, held->second, env.name);
    }
};

} // namespace

const Backend& namespace_backend()
{
    static const Namespace backend;
    return backend;
}

} // namespace chos::link
