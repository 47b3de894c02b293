// Making mount points and mounts inside the tree (see mounts.hpp).
#include "setup/mounts.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

std::string join(const std::string& base, const std::string& relative)
{
    if (relative.empty() || relative == ".")
        return base;
    if (base.empty() || base.back() == '/')
        return base + relative;
    return base + "/" + relative;
}

// The components of a relative path; refuses "", ".", ".." components (config
// paths are normalized, so this only fires on a programming error).
Result<std::vector<std::string>> components(const std::string& relative, const std::string& shown)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= relative.size()) {
        std::size_t slash = relative.find('/', start);
        if (slash == std::string::npos)
            slash = relative.size();
        std::string part = relative.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..")
            return error("refusing path", shown, "is not a normalized relative path");
        parts.push_back(std::move(part));
        start = slash + 1;
    }
    return parts;
}

Result<dev_t> device_of(int fd, const std::string& shown)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error("cannot stat", shown);
    return st.st_dev;
}

Result<> refuse_outside(const CreateIn& where, int parent_fd, const std::string& shown)
{
    auto dev = device_of(parent_fd, shown);
    if (!dev)
        return std::unexpected(dev.error());
    if (*dev != where.creatable_dev)
        return std::unexpected(Error{"mount point does not exist", shown, ENOENT,
                                     "it would have to be created inside a bind of the host "
                                     "(setup only creates mount points on its own tmpfs)"});
    return {};
}

} // namespace

Result<Fd> open_beneath(int dirfd, const std::string& relative, int flags, const std::string& shown)
{
    return platform::open_pinned(dirfd, relative == "." ? std::string() : relative, flags, platform::resolve_beneath,
                                 shown);
}

Result<Fd> make_directories(const CreateIn& where, const std::string& relative, mode_t mode)
{
    auto current = open_beneath(where.root, ".", O_PATH | O_DIRECTORY, where.shown_root);
    if (!current || relative.empty() || relative == ".")
        return current;
    auto parts = components(relative, join(where.shown_root, relative));
    if (!parts)
        return std::unexpected(parts.error());
    std::string shown = where.shown_root;
    for (const auto& part : *parts) {
        shown = join(shown, part);
        // One component at a time, each beneath the directory pinned one step
        // before: nothing between two steps can redirect the walk.
        Fd next(platform::openat2_fd(current->get(), part.c_str(), O_PATH | O_DIRECTORY, platform::resolve_beneath));
        if (!next && errno == ENOENT) {
            if (auto ok = refuse_outside(where, current->get(), shown); !ok)
                return std::unexpected(ok.error());
            if (::mkdirat(current->get(), part.c_str(), mode) != 0 && errno != EEXIST)
                return sys_error("cannot create directory", shown);
            next.reset(platform::openat2_fd(current->get(), part.c_str(), O_PATH | O_DIRECTORY, platform::resolve_beneath));
        }
        if (!next)
            return platform::pinned_open_error("cannot open", shown);
        *current = std::move(next);
    }
    return current;
}

Result<Fd> make_file(const CreateIn& where, const std::string& relative, mode_t mode)
{
    const std::string shown = join(where.shown_root, relative);
    const auto slash = relative.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : relative.substr(0, slash);
    const std::string base = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (base.empty() || base == "." || base == "..")
        return error("refusing path", shown, "is not a normalized relative path");
    auto parent = make_directories(where, dir, 0755);
    if (!parent)
        return parent;
    Fd file(platform::openat2_fd(parent->get(), base.c_str(), O_PATH, platform::resolve_beneath));
    if (!file && errno == ENOENT) {
        if (auto ok = refuse_outside(where, parent->get(), shown); !ok)
            return std::unexpected(ok.error());
        // mknod makes the file without opening it: an object that appeared in the
        // meantime (a FIFO) can never make us block.
        if (::mknodat(parent->get(), base.c_str(), S_IFREG | mode, 0) != 0 && errno != EEXIST)
            return sys_error("cannot create mount point", shown);
        file.reset(platform::openat2_fd(parent->get(), base.c_str(), O_PATH, platform::resolve_beneath));
    }
    if (!file)
        return platform::pinned_open_error("cannot open", shown);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0)
        return sys_error("cannot stat", shown);
    if (!S_ISREG(st.st_mode))
        return error("refusing mount point", shown, "is not a regular file");
    return file;
}

Result<Fd> mount_tmpfs(int target_fd, const std::string& shown_target)
{
    // The tree holds directories, symlinks and empty mount points only: a small size
    // bounds it, and the source name makes it recognizable in mountinfo.
    auto mount = platform::mount_new("tmpfs", {{"source", "chos"}, {"mode", "0755"}, {"size", "4m"}},
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, target_fd, shown_target);
    if (!mount)
        return mount;
    // Under a shared parent (systemd makes "/" shared) the new mount joined a peer
    // group when it was attached; private from now on, so the binds made inside it
    // stay inside it.
    mount_attr attr{};
    attr.propagation = MS_PRIVATE;
    if (::mount_setattr(mount->get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
        auto failure = sys_error("cannot make the tree private", shown_target);
        (void)detach(mount->get(), shown_target);
        return failure;
    }
    return mount;
}

Result<bool> mounted_at(const std::string& path)
{
    auto mounts = read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    return top_mount_at(*mounts, path) != nullptr;
}

} // namespace chos::setup
