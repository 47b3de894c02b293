// Pinned mount helpers (see mounts.hpp for the rule they keep).
#include "setup/mounts.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr std::uint64_t resolve_pinned = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve)
{
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    long fd;
    do
        fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return static_cast<int>(fd);
}

// Why openat2 refused, in words an administrator can act on.
std::unexpected<Error> open_error(const std::string& shown)
{
    const int e = errno;
    if (e == ELOOP)
        return std::unexpected(Error{"refusing path", shown, e,
                                     "a symbolic link is in the way (mount targets are never reached "
                                     "through symlinks: SECURITY.md class C)"});
    if (e == EXDEV)
        return std::unexpected(Error{"refusing path", shown, e, "leads outside the tree"});
    return std::unexpected(Error{"cannot open", shown, e, {}});
}

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
    const std::string path = relative.empty() ? "." : relative;
    Fd fd(openat2_fd(dirfd, path.c_str(), static_cast<std::uint64_t>(flags) | O_CLOEXEC, resolve_pinned));
    if (!fd)
        return open_error(shown);
    return fd;
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
        Fd next(openat2_fd(current->get(), part.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, resolve_pinned));
        if (!next && errno == ENOENT) {
            if (auto ok = refuse_outside(where, current->get(), shown); !ok)
                return std::unexpected(ok.error());
            if (::mkdirat(current->get(), part.c_str(), mode) != 0 && errno != EEXIST)
                return sys_error("cannot create directory", shown);
            next.reset(openat2_fd(current->get(), part.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, resolve_pinned));
        }
        if (!next)
            return open_error(shown);
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
    Fd file(openat2_fd(parent->get(), base.c_str(), O_PATH | O_CLOEXEC, resolve_pinned));
    if (!file && errno == ENOENT) {
        if (auto ok = refuse_outside(where, parent->get(), shown); !ok)
            return std::unexpected(ok.error());
        // mknod makes the file without opening it: an object that appeared in the
        // meantime (a FIFO) can never make us block.
        if (::mknodat(parent->get(), base.c_str(), S_IFREG | mode, 0) != 0 && errno != EEXIST)
            return sys_error("cannot create mount point", shown);
        file.reset(openat2_fd(parent->get(), base.c_str(), O_PATH | O_CLOEXEC, resolve_pinned));
    }
    if (!file)
        return open_error(shown);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0)
        return sys_error("cannot stat", shown);
    if (!S_ISREG(st.st_mode))
        return error("refusing mount point", shown, "is not a regular file");
    return file;
}

Result<Fd> open_source(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open", path);
    return fd;
}

Result<Fd> bind_onto(int source_fd, const std::string& shown_source, int target_fd,
                     const std::string& shown_target, const BindAttributes& attributes)
{
    const unsigned recursive = attributes.recursive ? AT_RECURSIVE : 0;
    Fd mount(::open_tree(source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | recursive));
    if (!mount)
        return sys_error("cannot clone mount", shown_source);
    if (attributes.set != 0 || attributes.propagation != 0) {
        mount_attr attr{};
        attr.attr_set = attributes.set;
        attr.propagation = attributes.propagation;
        if (::mount_setattr(mount.get(), "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) != 0)
            return sys_error("cannot set mount attributes of", shown_source);
    }
    if (::move_mount(mount.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot mount '" + shown_source + "' on", shown_target);
    return mount;
}

Result<Fd> mount_tmpfs(int target_fd, const std::string& shown_target)
{
    Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs)
        return sys_error("cannot create a tmpfs for", shown_target);
    // The tree holds directories, symlinks and empty mount points only: a small
    // size bounds it, and the source name makes it recognizable in mountinfo.
    const std::array<std::pair<const char*, const char*>, 3> settings{{
        {"source", "chos"}, {"mode", "0755"}, {"size", "4m"}}};
    for (const auto& [key, value] : settings)
        if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0) != 0)
            return sys_error(std::string("cannot configure the tmpfs (") + key + ") for", shown_target);
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return sys_error("cannot create a tmpfs for", shown_target);
    Fd mount(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
    if (!mount)
        return sys_error("cannot create a tmpfs mount for", shown_target);
    if (::move_mount(mount.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot mount a tmpfs on", shown_target);
    // Under a shared parent (systemd makes "/" shared) the new mount joined a peer
    // group when it was attached; private from now on, so the binds made inside it
    // stay inside it.
    mount_attr attr{};
    attr.propagation = MS_PRIVATE;
    if (::mount_setattr(mount.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
        auto failure = sys_error("cannot make the tree private", shown_target);
        (void)detach(mount.get(), shown_target);
        return failure;
    }
    return mount;
}

Result<> detach(int mount_root_fd, const std::string& shown)
{
    std::array<char, 32> path{};
    std::string_view prefix = "/proc/self/fd/";
    std::copy(prefix.begin(), prefix.end(), path.begin());
    auto [end, ec] = std::to_chars(path.data() + prefix.size(), path.data() + path.size() - 1, mount_root_fd);
    if (ec != std::errc{})
        return error("cannot unmount", shown, "bad file descriptor");
    *end = '\0';
    if (::umount2(path.data(), MNT_DETACH) != 0)
        return sys_error("cannot unmount", shown);
    return {};
}

Result<bool> is_mount_root(int fd, const std::string& shown)
{
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &stx) != 0)
        return sys_error("cannot stat", shown);
    if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0)
        return error("cannot tell whether it is mounted", shown, "the kernel does not report mount roots");
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

Result<bool> same_file(int a, int b)
{
    struct stat sa {}, sb {};
    if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0)
        return sys_error("cannot stat", "");
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

Result<std::string> fd_path(int fd)
{
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    std::array<char, 4097> buf{};
    const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size() - 1);
    if (n < 0)
        return sys_error("cannot read", link);
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

bool MountInfo::has_option(const std::string& option) const
{
    std::size_t start = 0;
    while (start <= mount_options.size()) {
        std::size_t comma = mount_options.find(',', start);
        if (comma == std::string::npos)
            comma = mount_options.size();
        if (mount_options.compare(start, comma - start, option) == 0 && comma - start == option.size())
            return true;
        start = comma + 1;
    }
    return false;
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field)
{
    const auto octal = [&](std::size_t k) { return k < field.size() && field[k] >= '0' && field[k] <= '7'; };
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                                     (field[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += field[i];
    }
    return out;
}

} // namespace

Result<std::vector<MountInfo>> read_mountinfo()
{
    Fd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd)
        return sys_error("cannot open", "/proc/self/mountinfo");
    std::string text;
    std::array<char, 65536> chunk{};
    for (;;) {
        const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot read", "/proc/self/mountinfo");
        if (n == 0)
            break;
        text.append(chunk.data(), static_cast<std::size_t>(n));
    }
    std::vector<MountInfo> mounts;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        MountInfo m;
        std::string devices, root, mount_point, field;
        if (!(fields >> m.id >> m.parent >> devices >> root >> mount_point >> m.mount_options))
            continue;
        while (fields >> field && field != "-") {
        }
        if (!(fields >> m.fstype >> m.source))
            continue;
        m.mount_point = unescape(mount_point);
        m.source = unescape(m.source);
        mounts.push_back(std::move(m));
    }
    return mounts;
}

const MountInfo* top_mount_at(const std::vector<MountInfo>& mounts, const std::string& mount_point)
{
    // Later lines are mounted later: the last match is the one on top.
    const MountInfo* top = nullptr;
    for (const auto& m : mounts)
        if (m.mount_point == mount_point)
            top = &m;
    return top;
}

} // namespace chos::setup
