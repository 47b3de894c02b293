#include "fuse-linkfs/fuse_mount.hpp"

#include "common/mount_ops.hpp"
#include "common/mountinfo.hpp"
#include "common/pinned_open.hpp"
#include "common/root_only.hpp"

#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace chos::linkfs {

namespace {

constexpr const char* fs_source = "chos-linkfs";
constexpr const char* fs_type = "fuse.chos";

Result<Fd> pin(const std::string& path)
{
    return platform::open_directory(path);
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
    auto id = platform::mount_id(dirfd, path);
    if (!id)
        return std::unexpected(id.error());
    auto mounts = platform::read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    const platform::MountEntry* dead = platform::mount_by_id(*mounts, *id);
    if (dead == nullptr)
        return error("cannot identify the mount", std::to_string(*id), "not in /proc/self/mountinfo");
    if (dead->fstype != fs_type || dead->source != fs_source)
        return error("refusing to mount", path,
                     "a dead FUSE mount of type '" + dead->fstype + "' (not chos-linkfs) is there");
    // Through the pinned fd: exactly the dead mount, whatever the path shows now.
    if (::umount2(fd_path(dirfd).c_str(), MNT_DETACH) != 0)
        return sys_error("cannot detach the dead chos-linkfs mount at", path);
    return true;
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
    // Pre-created state is refused, never adopted (CVE-2019-11328).
    if (auto ok = platform::check_root_only(dir->get(), platform::FileKind::directory, "refusing mount point",
                                            mount_point);
        !ok)
        return std::unexpected(ok.error());

    m.device_ = Fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!m.device_)
        return sys_error("cannot open", "/dev/fuse");
    const std::string fd_text = std::to_string(m.device_.get());
    // rootmode 040000: the root is a directory. user_id/group_id: the mount's owner
    // (root). allow_other: every user's processes must reach the link
    // (default_permissions is not needed: the daemon decides per caller).
    auto root = platform::mount_new("fuse",
                                    {{"source", fs_source},
                                     {"subtype", "chos"},
                                     {"fd", fd_text.c_str()},
                                     {"rootmode", "40000"},
                                     {"user_id", "0"},
                                     {"group_id", "0"},
                                     {"allow_other", nullptr}},
                                    MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, dir->get(), mount_point);
    if (!root)
        return std::unexpected(root.error());
    // Remember the mount by its unique id and let go of it: a daemon holding its own
    // mount would keep serving a tree that was detached under it (a racing stop) for
    // ever. Without the fd, the kernel ends the connection when the last user of a
    // detached mount goes, and the session loop returns.
    auto id = platform::unique_mount_id(root->get(), mount_point);
    if (!id) {
        (void)platform::detach(root->get(), mount_point);
        return std::unexpected(id.error());
    }
    m.mount_id_ = *id;
    return m;
}

Result<> FuseMount::unmount() noexcept
{
    if (mount_id_ == 0)
        return {};
    try {
        // Only our own mount, found again by its unique id: the path may show another
        // mount now, or nothing (a racing stop detached ours: nothing left to do).
        // Opening the root O_PATH and statx(DONT_SYNC) send the file system no request.
        auto dir = pin(mount_point_);
        if (!dir)
            return {};
        auto id = platform::unique_mount_id(dir->get(), mount_point_);
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
