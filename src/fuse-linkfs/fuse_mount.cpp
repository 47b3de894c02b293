#include "fuse-linkfs/fuse_mount.hpp"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::linkfs {

namespace {

constexpr const char* fs_source = "chos-linkfs";
constexpr const char* fs_type = "fuse.chos";

Result<Fd> pin(const std::string& path)
{
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    Fd fd(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how)));
    if (!fd && errno == ELOOP)
        return error("refusing mount point", path, "the path passes through a symbolic link");
    if (!fd)
        return sys_error("cannot open mount point", path);
    return fd;
}

// The fd's mount id without asking the file system (a dead or our own not yet
// served FUSE mount must not be sent a request: AT_STATX_DONT_SYNC).
Result<std::uint64_t> mount_id(int fd, const std::string& shown)
{
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) != 0)
        return sys_error("cannot statx", shown);
    if (!(stx.stx_mask & STATX_MNT_ID))
        return error("cannot identify the mount at", shown, "no mount id");
    return stx.stx_mnt_id;
}

// A mount id that is never reused (Linux 6.8+), else the classic one.
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif
Result<std::uint64_t> unique_mount_id(int fd, const std::string& shown)
{
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE, &stx) == 0 &&
        (stx.stx_mask & STATX_MNT_ID_UNIQUE))
        return stx.stx_mnt_id;
    return mount_id(fd, shown);
}

// "<type> <source>" of mount `id` from /proc/self/mountinfo.
Result<std::pair<std::string, std::string>> mount_type_source(std::uint64_t id)
{
    Fd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open", "/proc/self/mountinfo");
    std::string text;
    char chunk[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot read", "/proc/self/mountinfo");
        if (n == 0)
            break;
        text.append(chunk, static_cast<std::size_t>(n));
    }
    const std::string prefix = std::to_string(id) + " ";
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos)
            nl = text.size();
        std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        if (!line.starts_with(prefix))
            continue;
        const auto sep = line.find(" - ");
        if (sep == std::string_view::npos)
            break;
        auto rest = line.substr(sep + 3);
        const auto sp1 = rest.find(' ');
        const auto sp2 = rest.find(' ', sp1 == std::string_view::npos ? rest.size() : sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
            break;
        return std::pair{std::string(rest.substr(0, sp1)), std::string(rest.substr(sp1 + 1, sp2 - sp1 - 1))};
    }
    return error("cannot identify the mount", std::to_string(id), "not in /proc/self/mountinfo");
}

std::string fd_path(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

// A killed chos-linkfs leaves a mount whose every request fails with ENOTCONN.
// Only such a mount -- dead, and ours by type and source -- is detached.
Result<bool> detach_dead_mount(int dirfd, const std::string& path)
{
    struct statfs sfs {};
    if (::fstatfs(dirfd, &sfs) == 0) {
        if (sfs.f_type == FUSE_SUPER_MAGIC)
            return error("refusing to mount", path, "a FUSE file system is already mounted there (another chos-linkfs?)");
        return false;
    }
    if (errno != ENOTCONN)
        return sys_error("cannot statfs mount point", path);
    auto id = mount_id(dirfd, path);
    if (!id)
        return std::unexpected(id.error());
    auto ts = mount_type_source(*id);
    if (!ts)
        return std::unexpected(ts.error());
    if (ts->first != fs_type || ts->second != fs_source)
        return error("refusing to mount", path,
                     "a dead FUSE mount of type '" + ts->first + "' (not chos-linkfs) is there");
    // Through the pinned fd: exactly the dead mount, whatever the path shows now.
    if (::umount2(fd_path(dirfd).c_str(), MNT_DETACH) != 0)
        return sys_error("cannot detach the dead chos-linkfs mount at", path);
    return true;
}

Result<> check_mount_point(int fd, const std::string& path)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error("cannot stat mount point", path);
    if (!S_ISDIR(st.st_mode))
        return error("refusing mount point", path, "not a directory");
    // Pre-created state is refused, never adopted (CVE-2019-11328, class F).
    if (st.st_uid != 0)
        return error("refusing mount point", path, "owned by uid " + std::to_string(st.st_uid) + ", not root");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return error("refusing mount point", path, "writable by group or others");
    return {};
}

} // namespace

Result<FuseMount> FuseMount::mount(const std::string& mount_point)
{
    FuseMount m;
    m.mount_point_ = mount_point;
    auto dir = pin(mount_point);
    if (!dir)
        return std::unexpected(dir.error());
    auto dead = detach_dead_mount(dir->get(), mount_point);
    if (!dead)
        return std::unexpected(dead.error());
    if (*dead) {
        m.replaced_dead_ = true;
        dir = pin(mount_point);
        if (!dir)
            return std::unexpected(dir.error());
    }
    if (auto ok = check_mount_point(dir->get(), mount_point); !ok)
        return std::unexpected(ok.error());

    m.device_ = Fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!m.device_)
        return sys_error("cannot open", "/dev/fuse");
    Fd fs(::fsopen("fuse", FSOPEN_CLOEXEC));
    if (!fs)
        return sys_error("cannot mount", mount_point);
    const std::string fd_text = std::to_string(m.device_.get());
    struct Param {
        const char* key;
        const char* value; // nullptr: a flag
    };
    // rootmode 040000: the root is a directory. user_id/group_id: the mount's
    // owner (root). allow_other: every user's processes must reach the link
    // (default_permissions is not needed: the daemon decides per caller).
    const Param params[] = {{"source", fs_source}, {"subtype", "chos"},    {"fd", fd_text.c_str()},
                            {"rootmode", "40000"}, {"user_id", "0"},       {"group_id", "0"},
                            {"allow_other", nullptr}};
    for (const auto& p : params) {
        const int rc = p.value != nullptr ? ::fsconfig(fs.get(), FSCONFIG_SET_STRING, p.key, p.value, 0)
                                          : ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, p.key, nullptr, 0);
        if (rc != 0)
            return sys_error(std::string("cannot set mount option '") + p.key + "' for", mount_point);
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return sys_error("cannot mount", mount_point);
    m.root_ = Fd(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    if (!m.root_)
        return sys_error("cannot mount", mount_point);
    if (::move_mount(m.root_.get(), "", dir->get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot attach the mount at", mount_point);
    // Remember the mount by its unique id and let go of it: a daemon holding its own
    // mount would keep serving a tree that was detached under it (a racing stop) for
    // ever. Without the fd, the kernel ends the connection when the last user of a
    // detached mount goes, and the session loop returns.
    auto id = unique_mount_id(m.root_.get(), mount_point);
    if (!id)
        return std::unexpected(id.error());
    m.mount_id_ = *id;
    m.root_.reset();
    return m;
}

Result<> FuseMount::unmount() noexcept
{
    if (root_) {
        // Not attached yet (a failed start): the fd is all there is of it.
        root_.reset();
        return {};
    }
    if (mount_id_ == 0)
        return {};
    try {
        // Only our own mount, found again by its unique id: the path may show another
        // mount now, or nothing (a racing stop detached ours: nothing left to do).
        // Opening the root O_PATH and statx(DONT_SYNC) send the file system no request.
        auto dir = pin(mount_point_);
        if (!dir)
            return {};
        auto id = unique_mount_id(dir->get(), mount_point_);
        if (!id || *id != mount_id_)
            return {};
        if (::umount2(fd_path(dir->get()).c_str(), MNT_DETACH) != 0)
            return sys_error("cannot unmount", mount_point_);
        mount_id_ = 0;
        return {};
    } catch (...) {
        return std::unexpected(Error{"cannot unmount", mount_point_, ENOMEM, {}});
    }
}

} // namespace chos::linkfs
