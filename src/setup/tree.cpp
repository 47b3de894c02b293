// The tree's tmpfs and skeleton (see tree.hpp).
#include "setup/tree.hpp"

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

constexpr std::string_view link_prefix = ".chos/fs/link/";

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
    if (!S_ISREG(st.st_mode) || st.st_uid != 0)
        return false;
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
    auto dir = open_beneath(tree.root.get(), ".chos", O_PATH | O_DIRECTORY, tree.shown(".chos"));
    if (!dir)
        return std::unexpected(dir.error());
    const std::string shown = tree.shown(tree_marker);
    Fd fd(::openat(dir->get(), "tree-version", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
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
    if (::mkdirat(tree.root.get(), ".chos", 0755) != 0)
        return fail(sys_error("cannot create directory", tree.shown(".chos")).error());
    if (auto ok = write_marker(tree); !ok)
        return fail(ok.error());
    return CreatedTree{std::move(tree), std::move(*mount_point)};
}

Result<> make_skeleton(const Tree& tree)
{
    for (const char* dir : {".chos", ".chos/fs", ".chos/os", ".chos/bin"}) {
        auto fd = make_directories(tree.create_in(), dir, 0755);
        if (!fd)
            return std::unexpected(fd.error());
    }
    // "/chos/..." paths written on the host keep working inside the chroot.
    return ensure_symlink(tree, "", "chos", "/");
}

Result<> ensure_symlink(const Tree& tree, const std::string& dir_relative, const std::string& name,
                        const std::string& target)
{
    const std::string shown = tree.shown(dir_relative.empty() ? name : dir_relative + "/" + name);
    auto dir = open_beneath(tree.root.get(), dir_relative, O_PATH | O_DIRECTORY, tree.shown(dir_relative));
    if (!dir)
        return std::unexpected(dir.error());
    if (::symlinkat(target.c_str(), dir->get(), name.c_str()) == 0)
        return {};
    if (errno != EEXIST)
        return sys_error("cannot create symlink", shown);
    auto existing = read_symlink(tree, dir_relative, name);
    if (!existing)
        return std::unexpected(existing.error());
    if (!*existing)
        return error("cannot create symlink", shown, "something else is already there");
    if (**existing != target)
        return error("cannot create symlink", shown, "it exists and points to '" + **existing + "'");
    return {};
}

Result<std::optional<std::string>> read_symlink(const Tree& tree, const std::string& dir_relative,
                                                const std::string& name)
{
    const std::string shown = tree.shown(dir_relative.empty() ? name : dir_relative + "/" + name);
    auto dir = open_beneath(tree.root.get(), dir_relative, O_PATH | O_DIRECTORY, tree.shown(dir_relative));
    if (!dir)
        return std::unexpected(dir.error());
    std::array<char, 4097> buf{};
    const ssize_t n = ::readlinkat(dir->get(), name.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) {
        if (errno == EINVAL || errno == ENOENT)
            return std::optional<std::string>{};
        return sys_error("cannot read symlink", shown);
    }
    return std::optional<std::string>(std::string(buf.data(), static_cast<std::size_t>(n)));
}

Result<std::vector<std::string>> list_directory(const Tree& tree, const std::string& dir_relative)
{
    const std::string shown = tree.shown(dir_relative);
    auto fd = open_beneath(tree.root.get(), dir_relative, O_RDONLY | O_DIRECTORY, shown);
    if (!fd)
        return std::unexpected(fd.error());
    DIR* dir = ::fdopendir(fd->get());
    if (dir == nullptr)
        return sys_error("cannot read directory", shown);
    fd->release();
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    const int read_errno = errno;
    ::closedir(dir);
    if (read_errno != 0) {
        errno = read_errno;
        return sys_error("cannot read directory", shown);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<> sync_os_dirs(const Tree& tree, const config::Config& config, bool remove_stale, BuildReport& report)
{
    for (const auto& dir : config.os_dirs) {
        if (auto ok = ensure_symlink(tree, "", dir, std::string(link_prefix) + dir); !ok)
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
        if (!*target || **target != std::string(link_prefix) + name)
            continue;
        if (::unlinkat(tree.root.get(), name.c_str(), 0) != 0)
            return sys_error("cannot remove symlink", tree.shown(name));
        report.note("removed OS directory link '" + tree.shown(name) + "'");
    }
    return {};
}

} // namespace chos::setup
