// The host's side of the tree (see binds.hpp).
#include "setup/binds.hpp"

#include "chos_build_config.hpp"
#include "common/layout.hpp"
#include "common/root_only.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace chos::setup {

namespace {

std::string relative_of(const std::string& absolute)
{
    std::size_t i = 0;
    while (i < absolute.size() && absolute[i] == '/')
        ++i;
    return absolute.substr(i);
}

std::string parent_of(const std::string& relative)
{
    const auto slash = relative.rfind('/');
    return slash == std::string::npos ? std::string() : relative.substr(0, slash);
}

// Is the mount point of `target` on the tree's own tmpfs? Then a mount there was
// made by setup; otherwise it sits inside a bind of the host and is the host's.
Result<bool> mount_point_is_ours(const Tree& tree, const std::string& target)
{
    const std::string parent = parent_of(target);
    auto fd = open_beneath(tree.root.get(), parent, O_PATH | O_DIRECTORY, tree.shown(parent));
    if (!fd)
        return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return sys_error("cannot stat", tree.shown(parent));
    return st.st_dev == tree.dev;
}

void record_undo(UndoLog& undo, Fd mount, std::string shown)
{
    auto pinned = std::make_shared<Fd>(std::move(mount));
    undo.add([pinned, shown = std::move(shown)] { (void)detach(pinned->get(), shown); });
}

// A recursive bind of a directory above the tree (the host root for `local`, or
// /tmp when a test's tree lives there) brings along a copy of the tree's tmpfs.
// Harmless, but a confusing loop (/chos/local/chos/...): the copy is detached,
// leaving the empty host directory. Identified by the tmpfs's own device, so
// nothing else is ever touched.
void prune_tree_copy(const Tree& tree, int source_fd, const std::string& target, BuildReport& report)
{
    auto source_real = fd_path(source_fd);
    if (!source_real)
        return;
    std::string inside;
    if (*source_real == "/")
        inside = tree.real.substr(1);
    else if (tree.real.starts_with(*source_real + "/"))
        inside = tree.real.substr(source_real->size() + 1);
    else
        return;
    const std::string copy = target + "/" + inside;
    auto fd = open_beneath(tree.root.get(), copy, O_PATH | O_DIRECTORY, tree.shown(copy));
    if (!fd)
        return;
    struct stat st {};
    auto root = is_mount_root(fd->get(), tree.shown(copy));
    if (!root || !*root || ::fstat(fd->get(), &st) != 0 || st.st_dev != tree.dev)
        return;
    if (detach(fd->get(), tree.shown(copy)))
        report.note("detached the tree's own copy at '" + tree.shown(copy) + "'");
}

} // namespace

Result<BindOutcome> ensure_bind(const Tree& tree, int source_fd, const std::string& shown_source,
                                const std::string& target, const BindAttributes& attributes, bool replace_other,
                                UndoLog& undo)
{
    const std::string shown = tree.shown(target);
    struct stat source {};
    if (::fstat(source_fd, &source) != 0)
        return sys_error("cannot stat", shown_source);
    const bool directory = S_ISDIR(source.st_mode);
    if (!directory && !S_ISREG(source.st_mode))
        return error("cannot bind", shown_source, "is neither a directory nor a regular file");

    auto existing = open_beneath(tree.root.get(), target, O_PATH, shown);
    if (existing) {
        auto mounted = is_mount_root(existing->get(), shown);
        if (!mounted)
            return std::unexpected(mounted.error());
        if (*mounted) {
            auto same = same_file(existing->get(), source_fd);
            if (!same)
                return std::unexpected(Error{"cannot stat", shown, same.error().err, {}});
            if (*same)
                return BindOutcome::already;
            auto ours = mount_point_is_ours(tree, target);
            if (!ours)
                return std::unexpected(ours.error());
            if (*ours) {
                if (!replace_other)
                    return BindOutcome::other_mounted;
                if (auto ok = detach(existing->get(), shown); !ok)
                    return std::unexpected(ok.error());
            }
        }
    } else if (existing.error().err != ENOENT) {
        return std::unexpected(existing.error());
    }

    auto target_fd = directory ? make_directories(tree.create_in(), target, 0755)
                               : make_file(tree.create_in(), target, 0644);
    if (!target_fd)
        return std::unexpected(target_fd.error());
    auto mount = bind_onto(source_fd, shown_source, target_fd->get(), shown, attributes);
    if (!mount)
        return std::unexpected(mount.error());
    record_undo(undo, std::move(*mount), shown);
    return BindOutcome::mounted;
}

Result<> mount_local(const Tree& tree, const config::Config& config, bool remove_stale, UndoLog& undo,
                     BuildReport& report)
{
    const std::string local(layout::host_root);
    if (!config.local) {
        if (!remove_stale)
            return {};
        auto fd = open_beneath(tree.root.get(), local, O_PATH | O_DIRECTORY, tree.shown(local));
        if (!fd)
            return fd.error().err == ENOENT ? Result<>{} : Result<>(std::unexpected(fd.error()));
        auto mounted = is_mount_root(fd->get(), tree.shown(local));
        if (mounted && *mounted) {
            if (auto ok = detach(fd->get(), tree.shown(local)); !ok)
                return ok;
            report.note("unmounted '" + tree.shown(local) + "' (local: false)");
        }
        return {};
    }
    auto source = open_source("/");
    if (!source)
        return std::unexpected(source.error());
    BindAttributes attributes;
    attributes.recursive = true;
    attributes.set = MOUNT_ATTR_NODEV | (config.local_suid ? 0 : MOUNT_ATTR_NOSUID);
    attributes.propagation = MS_SLAVE;
    auto outcome = ensure_bind(tree, source->get(), "/", local, attributes, remove_stale, undo);
    if (!outcome)
        return std::unexpected(outcome.error());
    if (*outcome == BindOutcome::mounted) {
        prune_tree_copy(tree, source->get(), local, report);
        report.note("mounted '/' on '" + tree.shown(local) + "'");
    } else if (*outcome == BindOutcome::other_mounted) {
        report.warn("'" + tree.shown(local) + "' has another mount on it; left alone (run 'chos-setup reload')");
    }
    return {};
}

Result<> remove_stale_binds(const Tree& tree, const config::Config& config, SetupState& state,
                            BuildReport& report)
{
    std::vector<std::string> kept_targets;
    for (const auto& old_target : state.bind_targets) {
        const bool kept = std::any_of(config.binds.begin(), config.binds.end(),
                                      [&](const config::BindMount& b) { return b.target == old_target; });
        if (kept) {
            kept_targets.push_back(old_target);
            continue;
        }
        const std::string target = relative_of(old_target);
        auto fd = open_beneath(tree.root.get(), target, O_PATH, tree.shown(target));
        if (!fd)
            continue; // already gone
        auto mounted = is_mount_root(fd->get(), tree.shown(target));
        if (!mounted || !*mounted)
            continue; // not mounted (any more): nothing to take out
        auto ours = mount_point_is_ours(tree, target);
        if (!ours || !*ours) {
            report.warn("bind '" + old_target + "' left the config but its mount is inside another bind; left alone");
            continue;
        }
        if (auto ok = detach(fd->get(), tree.shown(target)); !ok)
            return ok;
        fd->reset();
        // The empty mount point goes too (best effort: only on our tmpfs, only
        // if empty; parents made for it stay).
        auto parent = open_beneath(tree.root.get(), parent_of(target), O_PATH | O_DIRECTORY,
                                   tree.shown(parent_of(target)));
        if (parent) {
            const std::string name = target.substr(target.rfind('/') + 1);
            if (::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR) != 0 && errno == ENOTDIR)
                (void)::unlinkat(parent->get(), name.c_str(), 0);
        }
        report.note("unmounted '" + tree.shown(target) + "' (no longer in bind:)");
    }
    state.bind_targets = std::move(kept_targets);
    return {};
}

Result<> mount_binds(const Tree& tree, const config::Config& config, bool replace_other, SetupState& state,
                     UndoLog& undo, BuildReport& report)
{
    // Targets of an older config stay recorded until a reload takes them out
    // (start only adds); then those of this config.
    SetupState now;
    for (const auto& old_target : state.bind_targets)
        if (std::none_of(config.binds.begin(), config.binds.end(),
                         [&](const config::BindMount& b) { return b.target == old_target; }))
            now.bind_targets.push_back(old_target);
    for (const auto& bind : config.binds) {
        const std::string target = relative_of(bind.target);
        auto source = open_source(bind.source);
        if (!source) {
            if (source.error().err == ENOENT && bind.optional) {
                report.note("skipped optional bind '" + bind.source + "': source does not exist");
                continue;
            }
            Error failure = source.error();
            failure.what = "cannot open bind source";
            if (failure.err == ENOENT)
                failure.reason = "does not exist (mark the entry 'optional: true' to skip it)";
            return std::unexpected(std::move(failure));
        }
        BindAttributes attributes;
        attributes.recursive = bind.recursive;
        attributes.set = MOUNT_ATTR_NOSUID | (bind.dev ? 0 : MOUNT_ATTR_NODEV);
        attributes.propagation = MS_SLAVE;
        auto outcome = ensure_bind(tree, source->get(), bind.source, target, attributes, replace_other, undo);
        if (!outcome)
            return std::unexpected(outcome.error());
        now.bind_targets.push_back(bind.target);
        if (*outcome == BindOutcome::mounted) {
            if (bind.recursive)
                prune_tree_copy(tree, source->get(), target, report);
            report.note("mounted '" + bind.source + "' on '" + tree.shown(target) + "'");
        } else if (*outcome == BindOutcome::other_mounted) {
            report.warn("'" + tree.shown(target) + "' has another mount on it, not '" + bind.source +
                        "'; left alone (run 'chos-setup reload')");
        }
    }
    state.bind_targets = std::move(now.bind_targets); // the shared files' record is not ours
    return {};
}

Result<> check_launcher(int fd, const std::string& path)
{
    return platform::check_root_only(fd, platform::FileKind::regular, "refusing launcher", path);
}

std::vector<std::string> launcher_names()
{
    return {"chos", "chos-run"};
}

std::string installed_launcher(const std::string& launcher_dir, const std::string& name)
{
    return (launcher_dir.empty() ? std::string(CHOS_BINDIR) : launcher_dir) + "/" + name;
}

Result<> mount_launchers(const Tree& tree, const std::string& launcher_dir, UndoLog& undo, BuildReport& report)
{
    for (const auto& name : launcher_names()) {
        const std::string path = installed_launcher(launcher_dir, name);
        auto source = open_source(path);
        if (!source) {
            if (source.error().err == ENOENT) {
                report.note("launcher not installed: '" + path + "' (not bound into the tree)");
                continue;
            }
            return std::unexpected(source.error());
        }
        if (auto trusted = check_launcher(source->get(), path); !trusted) {
            report.warn(trusted.error().str() + "; not bound into the tree");
            continue;
        }
        struct statvfs vfs {};
        if (::fstatvfs(source->get(), &vfs) == 0 && (vfs.f_flag & ST_NOSUID) != 0)
            report.warn("launcher '" + path + "' is on a nosuid mount: it cannot work inside the tree");
        BindAttributes attributes;
        attributes.recursive = false;
        attributes.set = MOUNT_ATTR_NODEV;
        attributes.propagation = MS_PRIVATE;
        const std::string target = std::string(layout::launcher_dir) + "/" + name;
        auto outcome = ensure_bind(tree, source->get(), path, target, attributes, true, undo);
        if (!outcome)
            return std::unexpected(outcome.error());
        if (*outcome == BindOutcome::mounted)
            report.note("mounted '" + path + "' on '" + tree.shown(target) + "'");
    }
    return {};
}

} // namespace chos::setup
