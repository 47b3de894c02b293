// The environments' side of the tree (see environments.hpp).
#include "setup/environments.hpp"

#include "common/layout.hpp"
#include "common/root_only.hpp"
#include "config/names.hpp"
#include "setup/binds.hpp"
#include "setup/gate.hpp"
#include "setup/images.hpp"
#include "setup/mounts.hpp"
#include "setup/overlays.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

const std::string os_dir(layout::os_dir);

std::string processes(std::size_t n)
{
    return std::to_string(n) + (n == 1 ? " process" : " processes");
}

// <tree>/.chos/os/<name>: the symlink through the gate (or the host link).
std::string entry_of(const std::string& name)
{
    return std::string(layout::os_dir) + "/" + name;
}

// <tree>/.chos/gate/<name>/tree: where the environment's tree is mounted.
std::string mount_of(const std::string& name)
{
    return layout::gated_tree_of(name);
}

// What is at `relative`: missing, a directory with or without a mount, or other.
Result<EntryKind> kind_at(const Tree& tree, const std::string& relative)
{
    auto fd = open_beneath(tree.root.get(), relative, O_PATH, tree.shown(relative));
    if (!fd)
        return fd.error().err == ENOENT ? Result<EntryKind>(EntryKind::missing)
                                        : Result<EntryKind>(std::unexpected(fd.error()));
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return sys_error("cannot stat", tree.shown(relative));
    if (!S_ISDIR(st.st_mode))
        return EntryKind::other;
    auto mounted = is_mount_root(fd->get(), tree.shown(relative));
    if (!mounted)
        return std::unexpected(mounted.error());
    return *mounted ? EntryKind::mounted : EntryKind::directory;
}

} // namespace

Result<EntryKind> entry_kind(const Tree& tree, const std::string& name)
{
    auto link = read_symlink(tree, os_dir, name);
    if (!link)
        return std::unexpected(link.error());
    if (*link) {
        if (**link == std::string(layout::host_entry_target))
            return EntryKind::host_link;
        if (**link != layout::gated_entry_target(name))
            return EntryKind::other_link;
        auto gated = kind_at(tree, mount_of(name)); // the link through the gate: what it leads to
        if (gated && *gated == EntryKind::missing)
            return EntryKind::directory; // a link to nothing: mounted again
        return gated;
    }
    auto entry = kind_at(tree, entry_of(name));
    if (!entry || *entry != EntryKind::missing)
        return entry.has_value() && (*entry == EntryKind::mounted || *entry == EntryKind::directory)
                   ? Result<EntryKind>(EntryKind::other) // a tree mounted without a gate: replaced
                   : entry;
    // No link: a start that stopped half-way may have left the gate.
    auto gated = kind_at(tree, mount_of(name));
    if (gated && *gated == EntryKind::other)
        return EntryKind::other;
    return gated;
}

namespace {

// Unmount what is mounted at `relative` (a directory) and remove the directory; a
// missing one is fine.
Result<> remove_mount_point(const Tree& tree, const std::string& relative)
{
    auto kind = kind_at(tree, relative);
    if (!kind)
        return std::unexpected(kind.error());
    if (*kind == EntryKind::missing)
        return {};
    const auto slash = relative.rfind('/');
    auto parent = open_beneath(tree.root.get(), relative.substr(0, slash), O_PATH | O_DIRECTORY,
                               tree.shown(relative.substr(0, slash)));
    if (!parent)
        return std::unexpected(parent.error());
    const std::string name = relative.substr(slash + 1);
    if (*kind == EntryKind::other) {
        if (::unlinkat(parent->get(), name.c_str(), 0) != 0)
            return sys_error("cannot remove", tree.shown(relative));
        return {};
    }
    if (*kind == EntryKind::mounted) {
        auto fd = open_beneath(tree.root.get(), relative, O_PATH | O_DIRECTORY, tree.shown(relative));
        if (!fd)
            return std::unexpected(fd.error());
        if (auto ok = detach(fd->get(), tree.shown(relative)); !ok)
            return ok;
    }
    if (::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR) != 0)
        return sys_error("cannot remove", tree.shown(relative));
    return {};
}

// Take an environment's entry out of the tree: the link (or a tree mounted there
// without a gate), then the tree in its gate (unmounted with the shared files on it)
// and the gate.
Result<> remove_entry(const Tree& tree, const std::string& name)
{
    const std::string entry = entry_of(name);
    auto link = read_symlink(tree, os_dir, name);
    if (!link)
        return std::unexpected(link.error());
    if (*link) {
        auto dir = open_beneath(tree.root.get(), os_dir, O_PATH | O_DIRECTORY, tree.shown(os_dir));
        if (!dir)
            return std::unexpected(dir.error());
        if (::unlinkat(dir->get(), name.c_str(), 0) != 0)
            return sys_error("cannot remove", tree.shown(entry));
    } else if (auto ok = remove_mount_point(tree, entry); !ok) {
        return ok;
    }
    if (auto ok = remove_mount_point(tree, mount_of(name)); !ok)
        return ok;
    auto gate = kind_at(tree, layout::gate_of(name));
    if (gate && *gate == EntryKind::directory)
        return remove_mount_point(tree, layout::gate_of(name));
    return {};
}

// Processes registered there, or nullopt (with a warning) when that cannot be
// told: then the entry is kept, since removing it under running processes is the
// one thing reload must never do.
std::optional<std::size_t> registered(const std::string& name, const ProcessCounter& count, BuildReport& report)
{
    auto n = count(name);
    if (!n) {
        report.warn("cannot count the processes of environment '" + name + "' (" + n.error().str() +
                    "); its entry is kept");
        return std::nullopt;
    }
    return *n;
}

// reload replaces an environment's entry (another path, host <-> tree) only when no
// process is registered there; otherwise it warns and keeps the old one.
bool may_replace(const std::string& name, const char* change, const char* old_one, const ProcessCounter& count,
                 bool views_kept, BuildReport& report)
{
    auto n = registered(name, count, report);
    if (!n)
        return false;
    if (*n != 0 && views_kept) {
        report.note("environment '" + name + "' " + change + "; " + old_one + " stays in the view of the " +
                    processes(*n) + " running there, new launches get the new one");
        return true;
    }
    if (*n != 0) {
        report.warn("environment '" + name + "' " + change + " but " + processes(*n) + " still run in " + old_one +
                    "; kept until they exit (run reload again)");
        return false;
    }
    return true;
}

// Bind each shared file onto the same path inside the environment, when that path
// is a regular file there. Symlinks are never followed inside the environment:
// a tree whose /etc/passwd points elsewhere must not make us mount on its target
// (docs/threat-model.md, class C), so it gets a warning and no bind.
Result<> bind_shared_files(const Tree& tree, const config::Environment& environment,
                           const config::Config& config, UndoLog& undo, BuildReport& report)
{
    if (config.shared_files.empty())
        return {};
    const std::string entry = mount_of(environment.name);
    auto env_root = open_beneath(tree.root.get(), entry, O_PATH | O_DIRECTORY, tree.shown(entry));
    if (!env_root)
        return std::unexpected(env_root.error());
    for (const auto& file : config.shared_files) {
        const std::string inside = file.substr(file.find_first_not_of('/'));
        const std::string shown = tree.shown(entry + "/" + inside);
        auto target = open_beneath(env_root->get(), inside, O_PATH, shown);
        if (!target) {
            if (target.error().err == ENOENT) // check's warning, which start and reload print
                report.note("shared file '" + file + "' does not exist in environment '" + environment.name +
                            "'; not bound");
            else
                report.warn("shared file '" + file + "' not bound into environment '" + environment.name +
                            "': " + target.error().str());
            continue;
        }
        struct stat st {};
        if (::fstat(target->get(), &st) != 0)
            return sys_error("cannot stat", shown);
        if (!S_ISREG(st.st_mode)) {
            report.warn("shared file '" + file + "' is not a regular file in environment '" + environment.name +
                        "'; not bound");
            continue;
        }
        auto source = open_source(file);
        if (!source) {
            report.warn("shared file '" + file + "' not bound: " + source.error().str());
            continue;
        }
        struct stat host {};
        if (::fstat(source->get(), &host) != 0)
            return sys_error("cannot stat", file);
        if (!S_ISREG(host.st_mode)) {
            report.warn("shared file '" + file + "' is not a regular file on the host; not bound");
            continue;
        }
        auto mounted = is_mount_root(target->get(), shown);
        if (!mounted)
            return std::unexpected(mounted.error());
        if (*mounted) {
            auto same = same_file(target->get(), source->get());
            if (same && *same)
                continue;
        }
        BindAttributes attributes;
        attributes.recursive = false;
        attributes.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        attributes.propagation = MS_PRIVATE;
        auto mount = bind_onto(source->get(), file, target->get(), shown, attributes);
        if (!mount)
            return std::unexpected(mount.error());
        auto pinned = std::make_shared<Fd>(std::move(*mount));
        undo.add([pinned, shown] { (void)detach(pinned->get(), shown); });
        report.note("mounted '" + file + "' on '" + shown + "'");
    }
    return {};
}

Result<> mount_environment(const Tree& tree, const config::Environment& environment, const config::Config& config,
                           bool remove_stale, const ProcessCounter& count, bool views_kept, UndoLog& undo,
                           BuildReport& report)
{
    const std::string entry = entry_of(environment.name);
    auto kind = entry_kind(tree, environment.name);
    if (!kind)
        return std::unexpected(kind.error());
    const bool was_missing = *kind == EntryKind::missing;

    if (environment.is_host()) {
        if (*kind != EntryKind::host_link && *kind != EntryKind::missing) {
            if (!remove_stale) {
                report.warn("environment '" + environment.name + "' is now the host but '" + tree.shown(entry) +
                            "' is still its old tree; run 'chos-setup reload'");
                return {};
            }
            if (!may_replace(environment.name, "changed to the host", "its old tree", count, views_kept, report))
                return {};
            if (auto ok = remove_entry(tree, environment.name); !ok)
                return ok;
        }
        if (auto ok = ensure_symlink(tree, os_dir, environment.name, std::string(layout::host_entry_target)); !ok)
            return ok;
        if (was_missing) {
            auto dir = open_beneath(tree.root.get(), os_dir, O_PATH | O_DIRECTORY, tree.shown(os_dir));
            if (dir) {
                auto dir_fd = std::make_shared<Fd>(std::move(*dir));
                undo.add([dir_fd, name = environment.name] { (void)::unlinkat(dir_fd->get(), name.c_str(), 0); });
            }
            report.added_environments.push_back(environment.name);
            report.note("linked environment '" + environment.name + "' to the host root");
        }
        return {};
    }

    // An image's mount under run_dir (images.hpp) is from here on the environment's
    // tree. An image refused or failing to mount leaves this environment as it was (none
    // at a start, its current image at a reload) and the others go on (docs/images.md).
    auto source = environment.is_image() ? ensure_image_mount(config, environment, undo, report)
                                         : open_environment_tree(environment, tree);
    if (!source && environment.is_image()) {
        report.refused.push_back(source.error().str());
        return {};
    }
    if (!source)
        return std::unexpected(source.error());

    if (*kind == EntryKind::host_link || *kind == EntryKind::other_link || *kind == EntryKind::other) {
        if (!remove_stale) {
            report.warn("'" + tree.shown(entry) + "' does not match environment '" + environment.name +
                        "'; run 'chos-setup reload'");
            return {};
        }
        if (!may_replace(environment.name, "changed its path", "the old one", count, views_kept, report))
            return {};
        if (auto ok = remove_entry(tree, environment.name); !ok)
            return ok;
    }

    BindAttributes attributes;
    attributes.recursive = true;
    attributes.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    // A clone of a tree on a shared mount joins its peer group; as a slave it still
    // sees the host's later mounts, but the shared files bound inside it never
    // propagate back onto the environment's tree on the host.
    attributes.propagation = MS_SLAVE;

    const std::string mount = mount_of(environment.name);
    if (*kind == EntryKind::mounted) {
        auto fd = open_beneath(tree.root.get(), mount, O_PATH | O_DIRECTORY, tree.shown(mount));
        if (!fd)
            return std::unexpected(fd.error());
        auto same = same_file(fd->get(), source->get());
        if (!same)
            return std::unexpected(same.error());
        if (!*same) {
            if (!remove_stale) {
                report.warn("'" + tree.shown(entry) + "' is mounted from another path than '" + environment.source() +
                            "'; run 'chos-setup reload'");
                return {};
            }
            // A new image is served at once: processes running keep the old one (their
            // namespace, open files, working directory), which stays mounted under
            // run_dir until none uses it (sweep_image_mounts).
            if (!environment.is_image() &&
                !may_replace(environment.name, "changed its path", "the old one", count, views_kept, report))
                return {};
            if (auto ok = detach(fd->get(), tree.shown(mount)); !ok)
                return ok;
            if (environment.is_image())
                report.updated_images.push_back(environment.name);
            report.note("unmounted the old tree of environment '" + environment.name + "'");
        }
    }

    // The gate first (its access from the allow-list, at every start and reload: an
    // edited allow-list reaches the kernel at once), then the tree inside it.
    const std::string gate = layout::gate_of(environment.name);
    if (auto made = make_directories(tree.create_in(), gate, 0700); !made)
        return std::unexpected(made.error());
    {
        auto gate_fd = open_beneath(tree.root.get(), gate, O_RDONLY | O_DIRECTORY, tree.shown(gate));
        if (!gate_fd)
            return std::unexpected(gate_fd.error());
        if (auto ok = set_gate_access(gate_fd->get(), tree.shown(gate), environment); !ok)
            return ok;
    }
    if (was_missing) {
        // A later step that fails takes the bind back (the undo log, newest first) and
        // then this: the link, the mount point and the gate made for it go too, so a
        // failed start or reload leaves nothing that would stand for an environment
        // (rmdir: never a directory that holds anything or is still mounted).
        auto root = std::make_shared<Fd>(::fcntl(tree.root.get(), F_DUPFD_CLOEXEC, 3));
        undo.add([root, name = environment.name] {
            (void)::unlinkat(root->get(), entry_of(name).c_str(), 0);
            (void)::unlinkat(root->get(), mount_of(name).c_str(), AT_REMOVEDIR);
            (void)::unlinkat(root->get(), layout::gate_of(name).c_str(), AT_REMOVEDIR);
        });
    }
    auto outcome = ensure_bind(tree, source->get(), environment.source(), mount, attributes, false, undo);
    if (!outcome)
        return std::unexpected(outcome.error());
    if (auto ok = ensure_symlink(tree, os_dir, environment.name, layout::gated_entry_target(environment.name)); !ok)
        return ok;
    if (*outcome == BindOutcome::mounted) {
        report.note("mounted '" + environment.source() + "' on '" + tree.shown(mount) + "'");
        if (was_missing)
            report.added_environments.push_back(environment.name);
    }
    // The overlays first: a shared file inside a directory they cover (etc/ssh/ssh_known_hosts)
    // is then bound onto the overlay's view of it, which a later overlay would hide.
    if (auto laid = lay_overlays(tree, environment, undo, report); !laid)
        return laid;
    return bind_shared_files(tree, environment, config, undo, report);
}

} // namespace

Result<Fd> open_environment_tree(const config::Environment& environment, const Tree& tree)
{
    auto source = open_source(environment.path);
    if (!source)
        return std::unexpected(source.error());
    const std::string what = "refusing environment '" + environment.name + "'";
    if (auto ok = platform::check_root_only(source->get(), platform::FileKind::directory, what.c_str(),
                                            environment.path);
        !ok)
        return std::unexpected(ok.error());
    // A tree inside the tree would bind the tree into itself.
    auto real = fd_path(source->get());
    if (real && (*real == tree.real || real->starts_with(tree.real + "/")))
        return error(what.c_str(), environment.path, "is inside the tree '" + tree.path + "'");
    return source;
}

Result<> remove_stale_shared_files(const Tree& tree, const config::Config& config,
                                   const std::vector<std::string>& bound_before, BuildReport& report)
{
    for (const auto& file : bound_before) {
        if (std::find(config.shared_files.begin(), config.shared_files.end(), file) != config.shared_files.end())
            continue;
        auto source = open_source(file); // the host's file: only a bind of it is ours to take out
        for (const auto& environment : config.environments) {
            if (environment.is_host())
                continue;
            auto kind = entry_kind(tree, environment.name);
            if (!kind || *kind != EntryKind::mounted)
                continue;
            const std::string inside = mount_of(environment.name) + "/" + file.substr(file.find_first_not_of('/'));
            auto target = open_beneath(tree.root.get(), inside, O_PATH, tree.shown(inside));
            if (!target)
                continue; // not there: nothing bound
            auto mounted = is_mount_root(target->get(), tree.shown(inside));
            if (!mounted || !*mounted)
                continue;
            auto same = source ? same_file(target->get(), source->get()) : Result<bool>(false);
            if (!same || !*same) {
                report.warn("'" + tree.shown(inside) + "' has a mount that is not the shared file '" + file +
                            "' (any more); left alone");
                continue;
            }
            if (auto ok = detach(target->get(), tree.shown(inside)); !ok)
                return ok;
            report.note("unmounted '" + tree.shown(inside) + "' ('" + file + "' left shared_files)");
        }
    }
    return {};
}

Result<> sync_environments(const Tree& tree, const config::Config& config, bool remove_stale,
                           const ProcessCounter& count, bool views_kept, UndoLog& undo, BuildReport& report)
{
    if (remove_stale) {
        auto names = list_directory(tree, os_dir);
        if (!names)
            return std::unexpected(names.error());
        for (const auto& name : *names) {
            if (config.find(name) != nullptr || !config::is_valid_environment_name(name))
                continue;
            auto n = registered(name, count, report);
            if (!n)
                continue;
            if (*n != 0) {
                report.kept_environments.emplace_back(name, *n);
                continue;
            }
            if (auto ok = remove_entry(tree, name); !ok)
                return ok;
            report.removed_environments.push_back(name);
            report.note("removed environment '" + name + "'");
        }
    }
    for (const auto& environment : config.environments)
        if (auto ok = mount_environment(tree, environment, config, remove_stale, count, views_kept, undo, report); !ok)
            return ok;
    return {};
}

} // namespace chos::setup
