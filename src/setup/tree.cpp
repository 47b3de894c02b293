// The tree's tmpfs and skeleton (see tree.hpp).
#include "setup/tree.hpp"

#include "common/file_io.hpp"
#include "common/layout.hpp"
#include "common/root_only.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace chos::setup {

namespace {

const std::string tree_marker(layout::tree_marker);

Result<bool> has_marker(int root, const std::string& shown)
{
    auto fd = open_beneath(root, tree_marker, O_RDONLY | O_NONBLOCK | O_NOCTTY, shown);
    if (!fd) {
        if (fd.error().err == ENOENT || fd.error().err == ENOTDIR || fd.error().err == ELOOP)
            return false;
        return std::unexpected(fd.error());
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return sys_error("cannot stat", shown);
    if (platform::ownership_problem(st, platform::FileKind::regular))
        return false; // not ours: someone else's file in someone else's tmpfs
    std::array<char, 64> buf{};
    const ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n < 0)
        return sys_error("cannot read", shown);
    const std::string_view text(buf.data(), static_cast<std::size_t>(n));
    if (!text.starts_with("chos-tree "))
        return false;
    if (text != tree_marker_text)
        return error("refusing tree", shown, "was made by another version of chos-setup (stop it with that version)");
    return true;
}

Result<> write_marker(const Tree& tree)
{
    const std::string shown = tree.shown(tree_marker);
    const auto slash = tree_marker.rfind('/');
    auto dir = open_beneath(tree.root.get(), tree_marker.substr(0, slash), O_PATH | O_DIRECTORY, shown);
    if (!dir)
        return std::unexpected(dir.error());
    Fd fd(::openat(dir->get(), tree_marker.substr(slash + 1).c_str(),
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        return sys_error("cannot create", shown);
    const std::string_view text = tree_marker_text;
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return sys_error("cannot write", shown);
    return {};
}

} // namespace

Result<std::optional<Tree>> find_tree(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return std::nullopt;
        return sys_error("cannot open", path);
    }
    struct statfs sfs {};
    if (::fstatfs(fd.get(), &sfs) != 0)
        return sys_error("cannot statfs", path);
    if (sfs.f_type != TMPFS_MAGIC)
        return std::nullopt;
    auto root = is_mount_root(fd.get(), path);
    if (!root)
        return std::unexpected(root.error());
    if (!*root)
        return std::nullopt;
    auto marked = has_marker(fd.get(), path + "/" + tree_marker);
    if (!marked)
        return std::unexpected(marked.error());
    if (!*marked)
        return std::nullopt;
    Tree tree;
    tree.path = path;
    auto real = fd_path(fd.get());
    if (!real)
        return std::unexpected(real.error());
    tree.real = *real;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return sys_error("cannot stat", path);
    tree.dev = st.st_dev;
    tree.root = std::move(fd);
    return tree;
}

Result<CreatedTree> create_tree(const std::string& path)
{
    if (path == "/")
        return error("refusing tree", path, "the tree cannot be the root directory");
    auto mount_point = open_trusted_directory(path, true);
    if (!mount_point)
        return std::unexpected(mount_point.error());
    auto remove_mount_point = [&] {
        if (mount_point->created)
            (void)::unlinkat(mount_point->parent.get(), mount_point->name.c_str(), AT_REMOVEDIR);
    };
    auto root = mount_tmpfs(mount_point->fd.get(), path);
    if (!root) {
        remove_mount_point();
        return std::unexpected(root.error());
    }
    Tree tree;
    tree.path = path;
    tree.root = std::move(*root);
    auto fail = [&](Error failure) -> Result<CreatedTree> {
        (void)detach(tree.root.get(), path);
        remove_mount_point();
        return std::unexpected(std::move(failure));
    };
    auto real = fd_path(tree.root.get());
    if (!real)
        return fail(real.error());
    tree.real = *real;
    struct stat st {};
    if (::fstat(tree.root.get(), &st) != 0)
        return fail(sys_error("cannot stat", path).error());
    tree.dev = st.st_dev;
    // The marker goes in first: a start killed half-way leaves a tree the next
    // start recognizes and repairs, instead of stacking a second tmpfs on it.
    const std::string meta(layout::meta_dir);
    if (::mkdirat(tree.root.get(), meta.c_str(), 0755) != 0)
        return fail(sys_error("cannot create directory", tree.shown(meta)).error());
    if (auto ok = write_marker(tree); !ok)
        return fail(ok.error());
    return CreatedTree{std::move(tree), std::move(*mount_point)};
}

Result<> make_skeleton(const Tree& tree)
{
    for (const auto dir : {layout::meta_dir, layout::link_dir, layout::os_dir, layout::gate_dir, layout::launcher_dir}) {
        auto fd = make_directories(tree.create_in(), std::string(dir), 0755);
        if (!fd)
            return std::unexpected(fd.error());
    }
    // "/chos/..." paths written on the host keep working inside the chroot.
    return ensure_symlink(tree, "", std::string(layout::root_alias), "/");
}

Result<> ensure_symlink(const Tree& tree, const std::string& dir_relative, const std::string& name,
                        const std::string& target)
{
    auto dir = open_beneath(tree.root.get(), dir_relative, O_PATH | O_DIRECTORY, tree.shown(dir_relative));
    if (!dir)
        return std::unexpected(dir.error());
    return platform::ensure_symlink_at(dir->get(), name, target,
                                       tree.shown(dir_relative.empty() ? name : dir_relative + "/" + name));
}

Result<std::optional<std::string>> read_symlink(const Tree& tree, const std::string& dir_relative,
                                                const std::string& name)
{
    auto dir = open_beneath(tree.root.get(), dir_relative, O_PATH | O_DIRECTORY, tree.shown(dir_relative));
    if (!dir)
        return std::unexpected(dir.error());
    return platform::read_symlink_at(dir->get(), name,
                                     tree.shown(dir_relative.empty() ? name : dir_relative + "/" + name));
}

Result<std::vector<std::string>> list_directory(const Tree& tree, const std::string& dir_relative)
{
    const std::string shown = tree.shown(dir_relative);
    auto fd = open_beneath(tree.root.get(), dir_relative, O_RDONLY | O_DIRECTORY, shown);
    if (!fd)
        return std::unexpected(fd.error());
    auto entries = platform::read_directory(std::move(*fd), shown);
    if (!entries)
        return std::unexpected(entries.error());
    std::vector<std::string> names;
    for (auto& entry : *entries)
        names.push_back(std::move(entry.name));
    return names;
}

Result<> sync_os_dirs(const Tree& tree, const config::Config& config, bool remove_stale, BuildReport& report)
{
    for (const auto& dir : config.os_dirs) {
        if (auto ok = ensure_symlink(tree, "", dir, std::string(layout::os_link_prefix) + dir); !ok)
            return ok;
    }
    if (!remove_stale)
        return {};
    auto names = list_directory(tree, "");
    if (!names)
        return std::unexpected(names.error());
    for (const auto& name : *names) {
        if (std::find(config.os_dirs.begin(), config.os_dirs.end(), name) != config.os_dirs.end())
            continue;
        auto target = read_symlink(tree, "", name);
        if (!target)
            return std::unexpected(target.error());
        // Only links of our own shape are ours to remove.
        if (!*target || **target != std::string(layout::os_link_prefix) + name)
            continue;
        if (::unlinkat(tree.root.get(), name.c_str(), 0) != 0)
            return sys_error("cannot remove symlink", tree.shown(name));
        report.note("removed OS directory link '" + tree.shown(name) + "'");
    }
    return {};
}

Result<> sync_host_commands(const Tree& tree, const config::Config& config, bool remove_stale,
                            BuildReport& report)
{
    const std::string dir(layout::launcher_dir);
    const std::string target(layout::host_command_target);
    for (const auto& entry : config.host_commands) {
        const std::string name(config::host_command_name(entry));
        if (auto ok = ensure_symlink(tree, dir, name, target); !ok)
            return ok;
    }
    if (!remove_stale)
        return {};
    auto names = list_directory(tree, dir);
    if (!names)
        return std::unexpected(names.error());
    for (const auto& name : *names) {
        if (config.find_host_command(name) != nullptr)
            continue;
        auto link = read_symlink(tree, dir, name);
        if (!link)
            return std::unexpected(link.error());
        if (!*link || **link != target) // the launchers' binds, anything not ours
            continue;
        auto parent = open_beneath(tree.root.get(), dir, O_PATH | O_DIRECTORY, tree.shown(dir));
        if (!parent)
            return std::unexpected(parent.error());
        if (::unlinkat(parent->get(), name.c_str(), 0) != 0)
            return sys_error("cannot remove symlink", tree.shown(dir + "/" + name));
        report.note("removed host command '" + tree.shown(dir + "/" + name) + "'");
    }
    return {};
}

} // namespace chos::setup
