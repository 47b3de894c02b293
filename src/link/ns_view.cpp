// One environment's view of the tree in its own mount namespace (see ns_view.hpp).
#include "link/ns_view.hpp"

#include "common/file_io.hpp"
#include "common/layout.hpp"
#include "common/mount_ops.hpp"
#include "common/pinned_open.hpp"

#include <algorithm>
#include <array>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace chos::link {

namespace {

// What the new view holds at one name of its root.
struct Entry {
    std::string name;
    enum class Kind { bind_dir, bind_file, symlink } kind = Kind::bind_dir;
    Fd source;              // bind_*: the pinned source (opened in the new namespace)
    std::string target;     // symlink: its target
    std::uint64_t set = 0;  // MOUNT_ATTR_* added to the bind
};

Result<std::string> symlink_target(int dirfd, const std::string& name, const std::string& shown)
{
    std::array<char, 4096> buf{};
    const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size() - 1);
    if (n < 0)
        return sys_error("cannot read symbolic link", shown);
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

// The entry `name` of the pinned directory `dir` as something to copy into the view.
Result<Entry> pin_entry(int dir, const std::string& name, const std::string& shown, std::uint64_t set)
{
    Entry entry;
    entry.name = name;
    entry.set = set;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_error("cannot stat", shown);
    if (S_ISLNK(st.st_mode)) {
        entry.kind = Entry::Kind::symlink;
        auto target = symlink_target(dir, name, shown);
        if (!target)
            return std::unexpected(target.error());
        entry.target = *target;
        return entry;
    }
    entry.kind = S_ISDIR(st.st_mode) ? Entry::Kind::bind_dir : Entry::Kind::bind_file;
    auto fd = platform::open_pinned(dir, name, O_PATH | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0),
                                    platform::resolve_beneath, shown);
    if (!fd)
        return std::unexpected(fd.error());
    entry.source = std::move(*fd);
    return entry;
}

// Put `entry` into the view's root `root`.
Result<> place_entry(int root, Entry& entry, const std::string& shown)
{
    if (entry.kind == Entry::Kind::symlink) {
        if (::symlinkat(entry.target.c_str(), root, entry.name.c_str()) != 0)
            return sys_error("cannot make symbolic link", shown);
        return {};
    }
    if (entry.kind == Entry::Kind::bind_dir) {
        if (::mkdirat(root, entry.name.c_str(), 0755) != 0)
            return sys_error("cannot make directory", shown);
    } else {
        Fd file(::openat(root, entry.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (!file)
            return sys_error("cannot make file", shown);
    }
    auto target = platform::open_pinned(root, entry.name, O_PATH, platform::resolve_beneath, shown);
    if (!target)
        return std::unexpected(target.error());
    platform::BindAttributes attributes;
    attributes.recursive = true;
    attributes.set = entry.set;
    auto bound = platform::bind_onto(entry.source.get(), shown, target->get(), shown, attributes);
    if (!bound)
        return std::unexpected(bound.error());
    return {};
}

Result<> set_read_only(int mount_root, const std::string& shown)
{
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(mount_root, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        return sys_error("cannot make read-only", shown);
    return {};
}

} // namespace

Result<Fd> build_environment_namespace(const config::Config& config, const config::Environment& env)
{
    // A slave at once: shared, the building below would propagate into the host and
    // every other environment; private, later host mounts would never arrive.
    if (::unshare(CLONE_NEWNS) != 0)
        return sys_error("cannot make a mount namespace for", env.name);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
        return sys_error("cannot make the mount namespace a slave for", env.name);

    // Everything the view binds is pinned before the new tmpfs covers the tree.
    auto tree = platform::open_directory(config.tree);
    if (!tree)
        return std::unexpected(tree.error());
    // The environment's tree behind its gate (.chos/os/<env> is a symlink through it);
    // in the view it sits at .chos/os/<env> itself: only the allow-list's users are
    // ever let into this namespace (the launcher's check), so the gate has no one to stop.
    const std::string env_entry = std::string(layout::os_dir) + "/" + env.name;
    const std::string env_shown = layout::in_tree(config.tree, layout::gated_tree_of(env.name));
    auto env_dir = platform::open_pinned(tree->get(), layout::gated_tree_of(env.name), O_PATH | O_DIRECTORY,
                                         platform::resolve_beneath, env_shown);
    if (!env_dir)
        return std::unexpected(env_dir.error());

    std::vector<Entry> entries;
    Fd listing(::openat(tree->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing)
        return sys_error("cannot list", config.tree);
    auto names = platform::read_directory(std::move(listing), config.tree);
    if (!names)
        return std::unexpected(names.error());
    const auto& os_dirs = config.os_dirs;
    for (const auto& item : *names) {
        const bool os_dir = std::find(os_dirs.begin(), os_dirs.end(), item.name) != os_dirs.end();
        Result<Entry> entry = error("", "", "");
        if (os_dir) {
            struct stat st {};
            const bool present = ::fstatat(env_dir->get(), item.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                 (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode));
            // The environment's own directory (or its symlink); a name it lacks keeps
            // the tree's link, which then points at nothing, as with the other backends.
            entry = present ? pin_entry(env_dir->get(), item.name, env_shown + "/" + item.name,
                                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
                            : pin_entry(tree->get(), item.name, layout::in_tree(config.tree, item.name), 0);
        } else if (item.name == layout::meta_dir) {
            continue; // made below: only this environment's part of .chos
        } else {
            entry = pin_entry(tree->get(), item.name, layout::in_tree(config.tree, item.name), 0);
        }
        if (!entry)
            return std::unexpected(entry.error());
        entries.push_back(std::move(*entry));
    }

    // .chos holds only what this environment needs: the launchers and its own entry
    // (the link's answer points there). Binding all of the host's .chos would copy
    // every environment's mounts into every namespace: quadratic in environments.
    // The launchers' directory is made in the view and each of its entries bound on its
    // own, as on the host's tree: a launcher's bind then sits directly on the view's
    // root, where the mount guard takes mounts as CHOS's own and leaves their setuid bit
    // (under a bind of the whole directory it would make them as strict as that bind).
    const std::string bin_shown = layout::in_tree(config.tree, layout::launcher_dir);
    std::vector<Entry> meta;
    bool has_bin = false;
    if (auto bin = platform::open_pinned(tree->get(), std::string(layout::launcher_dir), O_RDONLY | O_DIRECTORY,
                                         platform::resolve_beneath, bin_shown)) {
        has_bin = true;
        Fd bin_listing(::openat(bin->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!bin_listing)
            return sys_error("cannot list", bin_shown);
        auto launchers = platform::read_directory(std::move(bin_listing), bin_shown);
        if (!launchers)
            return std::unexpected(launchers.error());
        for (const auto& item : *launchers) {
            auto entry = pin_entry(bin->get(), item.name, bin_shown + "/" + item.name, 0);
            if (!entry)
                return std::unexpected(entry.error());
            entry->name = std::string(layout::launcher_dir) + "/" + item.name;
            meta.push_back(std::move(*entry));
        }
    }
    {
        Entry entry;
        entry.name = env_entry;
        entry.source = std::move(*env_dir);
        meta.push_back(std::move(entry));
    }

    auto root = platform::mount_new("tmpfs", {{"mode", "0755"}, {"size", "64k"}},
                                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, tree->get(), config.tree);
    if (!root)
        return std::unexpected(root.error());
    for (auto& entry : entries)
        if (auto ok = place_entry(root->get(), entry, layout::in_tree(config.tree, entry.name)); !ok)
            return std::unexpected(ok.error());
    for (const char* dir : {".chos", ".chos/os", ".chos/fs", ".chos/bin"})
        if ((has_bin || std::string_view(dir) != layout::launcher_dir) && ::mkdirat(root->get(), dir, 0755) != 0)
            return sys_error("cannot make directory", layout::in_tree(config.tree, dir));
    for (auto& entry : meta)
        if (auto ok = place_entry(root->get(), entry, layout::in_tree(config.tree, entry.name)); !ok)
            return std::unexpected(ok.error());

    // The link's answer, fixed: <tree>/.chos/fs/link -> ../os/<env>.
    const std::string fs_shown = layout::in_tree(config.tree, layout::link_dir);
    auto fs_dir = platform::open_pinned(root->get(), std::string(layout::link_dir), O_PATH | O_DIRECTORY,
                                        platform::resolve_beneath, fs_shown);
    if (!fs_dir)
        return std::unexpected(fs_dir.error());
    auto fs = platform::mount_new("tmpfs", {{"mode", "0755"}, {"size", "4k"}},
                                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, fs_dir->get(), fs_shown);
    if (!fs)
        return std::unexpected(fs.error());
    const std::string answer = layout::answer_for(env.name);
    if (::symlinkat(answer.c_str(), fs->get(), std::string(layout::link_name).c_str()) != 0)
        return sys_error("cannot make symbolic link", fs_shown + "/" + std::string(layout::link_name));
    if (auto ok = set_read_only(fs->get(), fs_shown); !ok)
        return std::unexpected(ok.error());
    if (auto ok = set_read_only(root->get(), config.tree); !ok)
        return std::unexpected(ok.error());

    // The host's tree, copied into this namespace by unshare, lies under the view with
    // all its mounts (every environment's): keep a copy of the view, let the host's
    // tree go, put the copy where it was.
    Fd view(::open_tree(root->get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
    if (!view)
        return sys_error("cannot copy the view of", env.name);
    fs->reset();
    fs_dir->reset();
    // (an unmount through /proc/self/fd/N takes the top mount at that place: the
    // original view first, then the host's tree under it)
    if (auto gone = platform::detach(root->get(), config.tree); !gone)
        return std::unexpected(gone.error());
    root->reset();
    if (auto gone = platform::detach(tree->get(), config.tree); !gone)
        return std::unexpected(gone.error());
    tree->reset();
    auto place = platform::open_directory(config.tree);
    if (!place)
        return std::unexpected(place.error());
    if (::move_mount(view.get(), "", place->get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot put the view of '" + env.name + "' on", config.tree);

    Fd ns(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ns)
        return sys_error("cannot open the mount namespace of", env.name);
    return ns;
}

} // namespace chos::link
