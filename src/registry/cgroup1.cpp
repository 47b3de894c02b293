// The cgroup1 registry: a named v1 hierarchy (name=<registry.name>, no controllers)
// mounted at <registry.mount>, one root-owned cgroup per environment, <mount>/<env>.
// Registering writes the pid to <mount>/<env>/cgroup.procs; reading finds the
// "N:name=<registry.name>:/<env>" line of /proc/<pid>/cgroup; the root cgroup "/"
// means unregistered (docs/architecture.md "The registry").
//
// Invisible to systemd and Slurm (their limits still apply), one cgroup per
// environment and not per launch (nothing accumulates), and only root can write the
// environments' cgroup.procs: an unprivileged process can never register itself.
#include "registry/backend.hpp"

#include "common/pinned_open.hpp"
#include "config/names.hpp"
#include "registry/cgroup_fs.hpp"
#include "registry/mounting.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <unistd.h>

namespace chos::registry {

namespace {

class Cgroup1 final : public Backend {
public:
    Cgroup1(std::string name, std::string mount) : name_(std::move(name)), mount_(std::move(mount)) {}

    config::RegistryType type() const noexcept override { return config::RegistryType::cgroup1; }
    std::string describe() const override { return "cgroup1 name=" + name_ + " at " + mount_; }
    std::string record_line() const override { return "cgroup1"; }

    Result<> place(pid_t pid, const std::string& environment) const override
    {
        auto procs = open_procs(environment, O_WRONLY);
        if (!procs)
            return std::unexpected(procs.error());
        return write_pid(procs->get(), pid, mount_ + "/" + environment + "/cgroup.procs");
    }

    Result<> ready(const std::string& environment) const override
    {
        auto procs = open_procs(environment, O_PATH);
        if (!procs)
            return std::unexpected(procs.error());
        return {};
    }

    Result<Membership> membership(pid_t pid) const override
    {
        ProcCgroup proc;
        auto text = proc.read(pid);
        if (!text)
            return std::unexpected(text.error());
        // No "name=<name>" line: the hierarchy is not mounted anywhere, or the read was
        // cut short. Either way nobody can be vouched for: fail closed.
        auto path = cgroup1_path(*text, name_);
        if (!path)
            return error("no registration line for pid", std::to_string(pid),
                         "'name=" + name_ + "' is missing from /proc/" + std::to_string(pid) + "/cgroup");
        auto m = membership_from_cgroup1(*path);
        if (!m)
            return error("malformed registration of pid", std::to_string(pid),
                         "cgroup '" + config::quote_for_message(*path) + "'");
        return *m;
    }

    Result<std::vector<std::string>> populate(const config::Config& config, int root_fd) const override
    {
        // Through the fd of the mount just made, if any: its path may have been swapped.
        auto root = root_fd >= 0 ? open_below(root_fd, ".", O_PATH | O_DIRECTORY, mount_)
                                 : platform::open_directory(mount_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
            return std::unexpected(ok.error());
        if (auto ok = check_root_only(root->get(), mount_, true); !ok)
            return std::unexpected(ok.error());
        for (const auto& env : config.environments) {
            const std::string shown = mount_ + "/" + env.name;
            if (auto made = make_cgroup(root->get(), env.name, shown, "cannot create environment cgroup"); !made)
                return std::unexpected(made.error());
            // An existing cgroup is only adopted when root alone can write it.
            auto dir = open_below(root->get(), env.name, O_PATH | O_DIRECTORY, shown);
            if (!dir)
                return std::unexpected(dir.error());
            if (auto ok = check_root_only(dir->get(), shown, true); !ok)
                return std::unexpected(ok.error());
            for (const char* file : {"cgroup.procs", "tasks"}) {
                auto f = open_below(dir->get(), file, O_PATH, shown + "/" + file);
                if (!f)
                    return std::unexpected(f.error());
                if (auto ok = check_root_only(f->get(), shown + "/" + file, false); !ok)
                    return std::unexpected(ok.error());
            }
        }
        auto children = child_cgroups(root->get(), mount_);
        if (!children)
            return std::unexpected(children.error());
        std::vector<std::string> busy;
        for (const auto& name : *children) {
            if (config.find(name) != nullptr)
                continue;
            if (::unlinkat(root->get(), name.c_str(), AT_REMOVEDIR) == 0)
                continue;
            if (errno == EBUSY)
                busy.push_back(name); // still has processes: removed by a later sync
            else
                return sys_error("cannot remove environment cgroup", mount_ + "/" + name);
        }
        return busy;
    }

    Result<std::size_t> count(const std::string& environment) const override
    {
        auto root = platform::open_directory(mount_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
            return std::unexpected(ok.error());
        const std::string shown = mount_ + "/" + environment;
        auto dir = open_below(root->get(), environment, O_PATH | O_DIRECTORY, shown);
        if (!dir)
            return std::unexpected(dir.error());
        return count_procs(dir->get(), shown);
    }

    Result<> teardown(const platform::MountEntry* top) const override
    {
        if (top == nullptr || !is_named_cgroup1(*top, name_))
            return {}; // not mounted here: nothing of ours to tear down
        if (auto emptied = remove_environments(); !emptied)
            return emptied;
        // (No fd of ours may be open on the mount here: umount2 would say EBUSY.)
        if (::umount2(mount_.c_str(), UMOUNT_NOFOLLOW) != 0)
            return sys_error("cannot unmount the registry", mount_);
        return release_hierarchy();
    }

private:
    // Remove every environment cgroup. A named hierarchy with child cgroups outlives
    // its mounts: the caller unmounts only once they are gone, so a later start finds
    // a clean state. err EBUSY, naming them, while processes are registered.
    Result<> remove_environments() const
    {
        auto root = platform::open_directory(mount_);
        if (!root)
            return std::unexpected(root.error());
        auto children = child_cgroups(root->get(), mount_);
        if (!children)
            return std::unexpected(children.error());
        std::vector<std::string> busy;
        for (const auto& name : *children) {
            if (::unlinkat(root->get(), name.c_str(), AT_REMOVEDIR) == 0)
                continue;
            if (errno != EBUSY)
                return sys_error("cannot remove environment cgroup", mount_ + "/" + name);
            auto dir = open_below(root->get(), name, O_PATH | O_DIRECTORY, mount_ + "/" + name);
            auto n = dir ? count_procs(dir->get(), mount_ + "/" + name) : Result<std::size_t>(0);
            busy.push_back(name + (n ? " (" + std::to_string(*n) + " processes)" : std::string()));
        }
        if (!busy.empty())
            return std::unexpected(Error{"environments still in use", mount_, EBUSY, "busy: " + join_names(busy)});
        return {};
    }

    Result<> release_hierarchy() const;

    // <mount>/<env>/cgroup.procs, checked: the hierarchy mounted, the environment's
    // cgroup there (another instance's stop of the same hierarchy removes it), root's alone.
    Result<Fd> open_procs(const std::string& environment, int flags) const
    {
        auto root = platform::open_directory(mount_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
            return error("the registry is not mounted", mount_, "run 'chos-setup start'");
        const std::string shown = mount_ + "/" + environment;
        auto dir = open_below(root->get(), environment, O_PATH | O_DIRECTORY, shown);
        if (!dir) {
            if (dir.error().err == ENOENT)
                return error("environment is not set up in the registry", environment,
                             "no cgroup '" + shown + "' (run 'chos-setup reload')");
            return std::unexpected(dir.error());
        }
        if (auto ok = check_root_only(dir->get(), shown, true); !ok)
            return std::unexpected(ok.error());
        auto procs = open_below(dir->get(), "cgroup.procs", flags, shown + "/cgroup.procs");
        if (!procs)
            return std::unexpected(procs.error());
        if (auto ok = check_root_only(procs->get(), shown + "/cgroup.procs", false); !ok)
            return std::unexpected(ok.error());
        return procs;
    }

    std::string name_;
    std::string mount_;
};

// The kernel destroys a named v1 hierarchy when its last mount goes *and* its root has
// no children at that moment (cgroup_kill_sb), and then only asynchronously. A cgroup
// just removed with rmdir stays on the children list until its references are gone, so
// an unmount right after the rmdirs leaves an empty hierarchy behind for good
// (measured: still listed 10 s later; nothing may accumulate). Mounting it again and
// unmounting once the children are really gone re-runs that check. So: wait for the
// hierarchy to leave /proc/self/cgroup; if it does not, mount and unmount it again, and
// wait again (measured: gone ~100 ms later).
Result<> Cgroup1::release_hierarchy() const
{
    auto listed = [&]() -> Result<bool> {
        ProcCgroup proc;
        auto text = proc.read(::getpid());
        if (!text)
            return std::unexpected(text.error());
        return cgroup1_path(*text, name_).has_value();
    };
    for (int attempt = 0; attempt < 20; ++attempt) {
        for (int poll = 0; poll < 20; ++poll) { // up to ~200 ms
            auto l = listed();
            if (!l)
                return std::unexpected(l.error());
            if (!*l)
                return {};
            ::usleep(10000);
        }
        auto target = platform::open_directory(mount_);
        if (!target)
            return std::unexpected(target.error());
        if (auto ok = mount_named_cgroup1(target->get(), name_, mount_); !ok)
            continue; // still dying: the kernel refuses or restarts the mount meanwhile
        // By path again: the pinned fd still names the directory under the mount.
        if (auto root = platform::open_directory(mount_)) {
            auto children = child_cgroups(root->get(), mount_);
            if (children && !children->empty()) {
                (void)::umount2(mount_.c_str(), UMOUNT_NOFOLLOW);
                return error("cannot release the registry hierarchy", "name=" + name_,
                             "it has cgroups again: " + join_names(*children));
            }
        }
        if (::umount2(mount_.c_str(), UMOUNT_NOFOLLOW) != 0)
            return sys_error("cannot unmount the registry", mount_);
    }
    return error("cannot release the registry hierarchy", "name=" + name_,
                 "still listed in /proc/self/cgroup after unmounting (dying cgroups)");
}

} // namespace

std::shared_ptr<const Backend> make_cgroup1(const std::string& name, const std::string& mount)
{
    return std::make_shared<Cgroup1>(name, mount);
}

} // namespace chos::registry
