// The cgroup2 registry, for kernels that refuse named v1 hierarchies: registering
// creates (if needed) a root-owned leaf "chos-<env>" beside the caller's current
// cgroup (<current>/chos-<env>, or <parent>/chos-<env> from inside a leaf, so leaves
// never nest) and moves the pid there; reading takes the "0::<path>" line and accepts
// the last component only if it is "chos-<valid name>" and the directory is root's
// (docs/architecture.md "The registry"). Beside the current cgroup, so the limits of
// a systemd scope or a Slurm job still apply. Leaves are per process tree: chos-setup
// and chos-linkfs remove the empty ones.
#include "registry/backend.hpp"

#include "common/pinned_open.hpp"
#include "common/root_only.hpp"
#include "config/names.hpp"
#include "registry/cgroup_fs.hpp"
#include "registry/mounting.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <optional>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::registry {

namespace {

// Deep enough for any real cgroup tree; a bound keeps the walk's fds bounded.
constexpr int max_walk_depth = 64;

// A root-owned "chos-<valid name>" directory: a registration leaf. Anything else with
// the prefix is a look-alike (made in a delegated subtree by its user) and is never
// touched.
std::optional<std::string> leaf_environment(int dirfd, const std::string& name)
{
    if (!std::string_view(name).starts_with(cgroup2_leaf_prefix))
        return std::nullopt;
    auto env = name.substr(cgroup2_leaf_prefix.size());
    if (!config::is_valid_environment_name(env))
        return std::nullopt;
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        platform::ownership_problem(st, platform::FileKind::directory))
        return std::nullopt;
    return env;
}

// Depth-first over the cgroup2 tree, calling on_leaf(parent_fd, name, env, path) for
// every registration leaf. Leaves are not descended into (only root could have made
// children there, and those are not registrations); at most max_walk_depth directories
// are open at a time. A cgroup removed while we walk is skipped, not an error.
template <typename F>
Result<> walk_leaves(int dirfd, const std::string& shown, int depth, F& on_leaf)
{
    auto names = child_cgroups(dirfd, shown);
    if (!names) {
        if (names.error().err == ENOENT || names.error().err == ENODEV)
            return {};
        return std::unexpected(names.error());
    }
    for (const auto& name : *names) {
        const std::string path = shown + "/" + name;
        if (auto env = leaf_environment(dirfd, name)) {
            if (auto ok = on_leaf(dirfd, name, *env, path); !ok)
                return ok;
            continue;
        }
        if (depth >= max_walk_depth)
            continue;
        auto child = open_below(dirfd, name, O_PATH | O_DIRECTORY, path);
        if (!child)
            continue; // removed meanwhile, or another mount
        if (auto ok = walk_leaves(child->get(), path, depth + 1, on_leaf); !ok)
            return ok;
    }
    return {};
}

class Cgroup2 final : public Backend {
public:
    Cgroup2(std::string mount, std::string root) : mount_(std::move(mount)), root_(std::move(root)) {}

    config::RegistryType type() const noexcept override { return config::RegistryType::cgroup2; }
    std::string describe() const override { return "cgroup2 leaves under " + root_; }
    std::string record_line() const override { return "cgroup2 " + root_; }

    Result<> place(pid_t pid, const std::string& environment) const override
    {
        auto root = open_root();
        if (!root)
            return std::unexpected(root.error());
        ProcCgroup proc;
        auto text = proc.read(pid);
        if (!text)
            return std::unexpected(text.error());
        auto current = cgroup2_path(*text);
        if (!current || !is_clean_cgroup_path(*current))
            return error("cannot register", std::to_string(pid), "its cgroup2 membership is unreadable");
        // From inside a leaf (switching) use its parent, so leaves never nest.
        std::string parent = *current;
        const auto slash = parent.rfind('/');
        if (std::string_view(parent).substr(slash + 1).starts_with(cgroup2_leaf_prefix))
            parent.resize(slash == 0 ? 1 : slash);
        const std::string rel = parent == "/" ? "." : parent.substr(1);
        const std::string shown_parent = root_ + (parent == "/" ? "" : parent);
        auto pdir = open_below(root->get(), rel, O_PATH | O_DIRECTORY, shown_parent);
        if (!pdir)
            return std::unexpected(pdir.error());
        const std::string leaf = std::string(cgroup2_leaf_prefix) + environment;
        const std::string shown = shown_parent + "/" + leaf;
        // A concurrent collect_empty_leaves() may remove the leaf between mkdir and the
        // write (rmdir of an empty cgroup): create it again, a bounded number of times.
        Result<> last = error("cannot register pid " + std::to_string(pid) + " in", shown, "leaf kept vanishing");
        for (int attempt = 0; attempt < 3; ++attempt) {
            if (auto made = make_cgroup(pdir->get(), leaf, shown, "cannot create registration leaf"); !made)
                return made;
            auto dir = open_below(pdir->get(), leaf, O_PATH | O_DIRECTORY, shown);
            if (!dir) {
                if (dir.error().err == ENOENT)
                    continue;
                return std::unexpected(dir.error());
            }
            // A user with a delegated subtree can pre-create "chos-<env>" there: it is
            // theirs, so it is refused, never adopted.
            if (auto ok = check_root_only(dir->get(), shown, true); !ok)
                return ok;
            auto procs = open_below(dir->get(), "cgroup.procs", O_WRONLY, shown + "/cgroup.procs");
            if (!procs) {
                if (procs.error().err == ENOENT || procs.error().err == ENODEV)
                    continue;
                return std::unexpected(procs.error());
            }
            last = write_pid(procs->get(), pid, shown + "/cgroup.procs");
            if (last || (last.error().err != ENODEV && last.error().err != ENOENT))
                break;
        }
        return last;
    }

    Result<Membership> membership(pid_t pid) const override
    {
        ProcCgroup proc;
        auto text = proc.read(pid);
        if (!text)
            return std::unexpected(text.error());
        auto path = cgroup2_path(*text);
        if (!path)
            return error("no cgroup2 line for pid", std::to_string(pid), "'0::' is missing");
        auto m = membership_from_cgroup2(*path);
        if (!m)
            return error("malformed registration of pid", std::to_string(pid),
                         "cgroup '" + config::quote_for_message(*path) + "'");
        if (m->registered) {
            // Only root makes leaves (the launcher, after the allow-list): a "chos-" leaf
            // owned by anyone else was made in a delegated subtree by its user. cgroup2
            // has no rename, so a root-owned leaf keeps the name root gave it.
            const std::string dir = root_ + (*path == "/" ? "" : *path);
            struct stat st {};
            if (::fstatat(AT_FDCWD, dir.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                return sys_error("cannot stat registration leaf", dir);
            if (platform::ownership_problem(st, platform::FileKind::directory))
                return error("refusing registration of pid", std::to_string(pid),
                             "leaf '" + config::quote_for_message(*path) + "' is not a root-owned cgroup");
        }
        return *m;
    }

    Result<std::vector<std::string>> populate(const config::Config&, int) const override
    {
        // Leaves are made on demand: nothing to create. Unused ones go now (a
        // configured-away environment's leaves go when their processes have gone).
        auto collected = collect_empty_leaves();
        if (!collected)
            return std::unexpected(collected.error());
        return std::vector<std::string>{};
    }

    // Leaves are made at each launch: ready when the cgroup2 root is there.
    Result<> ready(const std::string&) const override
    {
        auto root = open_root();
        if (!root)
            return std::unexpected(root.error());
        return {};
    }

    Result<std::size_t> count(const std::string& environment) const override
    {
        // The environment's leaves are spread over the tree (one per cgroup a launch
        // started from): add them all up.
        auto root = platform::open_directory(root_);
        if (!root)
            return std::unexpected(root.error());
        std::size_t total = 0;
        auto add = [&](int dirfd, const std::string& name, const std::string& env,
                       const std::string& path) -> Result<> {
            if (env != environment)
                return {};
            auto leaf = open_below(dirfd, name, O_PATH | O_DIRECTORY, path);
            if (!leaf)
                return {}; // removed meanwhile
            if (auto n = count_procs(leaf->get(), path))
                total += *n;
            return {};
        };
        if (auto ok = walk_leaves(root->get(), root_, 0, add); !ok)
            return std::unexpected(ok.error());
        return total;
    }

    Result<std::size_t> collect_empty_leaves() const override
    {
        auto root = open_root();
        if (!root)
            return std::unexpected(root.error());
        std::size_t removed = 0;
        auto collect = [&](int dirfd, const std::string& name, const std::string&,
                           const std::string& path) -> Result<> {
            // The kernel refuses to remove a populated cgroup (EBUSY), atomically: no
            // need to look at cgroup.procs first, and no race with a process entering.
            if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0)
                ++removed;
            else if (errno != EBUSY && errno != ENOENT && errno != ENODEV)
                return sys_error("cannot remove registration leaf", path);
            return {};
        };
        if (auto ok = walk_leaves(root->get(), root_, 0, collect); !ok)
            return std::unexpected(ok.error());
        return removed;
    }

    Result<> teardown(const platform::MountEntry* top) const override
    {
        auto collected = collect_empty_leaves();
        if (!collected)
            return std::unexpected(collected.error());
        auto populated = populated_leaves();
        if (!populated)
            return std::unexpected(populated.error());
        if (*populated != 0)
            return std::unexpected(Error{"environments still in use", root_, EBUSY,
                                         std::to_string(*populated) + " registration leaves still hold processes"});
        if (top == nullptr || !is_cgroup2_root(*top))
            return {};
        // (No fd of ours may be open on the mount here: umount2 would say EBUSY.)
        if (::umount2(mount_.c_str(), UMOUNT_NOFOLLOW) != 0)
            return sys_error("cannot unmount the registry", mount_);
        return {};
    }

private:
    Result<std::size_t> populated_leaves() const
    {
        auto root = platform::open_directory(root_);
        if (!root)
            return std::unexpected(root.error());
        std::size_t populated = 0;
        auto note = [&](int, const std::string&, const std::string&, const std::string&) -> Result<> {
            ++populated;
            return {};
        };
        if (auto ok = walk_leaves(root->get(), root_, 0, note); !ok)
            return std::unexpected(ok.error());
        return populated;
    }

    Result<Fd> open_root() const
    {
        auto root = platform::open_directory(root_);
        if (!root)
            return root;
        if (auto ok = check_fs(root->get(), CGROUP2_SUPER_MAGIC, root_, "cgroup2"); !ok)
            return std::unexpected(ok.error());
        return root;
    }

    std::string mount_; // registry.mount (the fallback's marker when bound there)
    std::string root_;  // where the cgroup2 hierarchy used for leaves is mounted
};

} // namespace

std::shared_ptr<const Backend> make_cgroup2(const std::string& mount, const std::string& root)
{
    return std::make_shared<Cgroup2>(mount, root);
}

} // namespace chos::registry
