// Mounting without names (see mount_ops.hpp).
#include "common/mount_ops.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

namespace chos::platform {

Result<Fd> bind_onto(int source_fd, const std::string& shown_source, int target_fd, const std::string& shown_target,
                     const BindAttributes& attributes)
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

Result<Fd> mount_new(const char* type, std::initializer_list<FsSetting> settings, std::uint64_t attributes,
                     int target_fd, const std::string& shown_target)
{
    const std::string what = std::string("cannot mount a ") + type + " file system on";
    Fd fs(::fsopen(type, FSOPEN_CLOEXEC));
    if (!fs)
        return sys_error(what, shown_target);
    for (const auto& s : settings) {
        const int rc = s.value != nullptr ? ::fsconfig(fs.get(), FSCONFIG_SET_STRING, s.key, s.value, 0)
                                          : ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, s.key, nullptr, 0);
        if (rc != 0)
            return sys_error(std::string("cannot set mount option '") + s.key + "' for", shown_target);
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return sys_error(what, shown_target);
    Fd mount(::fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attributes)));
    if (!mount)
        return sys_error(what, shown_target);
    if (::move_mount(mount.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error(std::string("cannot attach a ") + type + " file system on", shown_target);
    return mount;
}

Result<> add_attributes(int mount_root_fd, std::uint64_t set, const std::string& shown)
{
    mount_attr attr{};
    attr.attr_set = set;
    if (::mount_setattr(mount_root_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        return sys_error("cannot set mount attributes of", shown);
    return {};
}

Result<> detach(int mount_root_fd, const std::string& shown)
{
    std::array<char, 32> path{};
    constexpr std::string_view prefix = "/proc/self/fd/";
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

Result<std::uint64_t> mount_id(int fd, const std::string& shown)
{
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) != 0)
        return sys_error("cannot statx", shown);
    if (!(stx.stx_mask & STATX_MNT_ID))
        return error("cannot identify the mount at", shown, "no mount id");
    return stx.stx_mnt_id;
}

Result<std::uint64_t> unique_mount_id(int fd, const std::string& shown)
{
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE, &stx) == 0 &&
        (stx.stx_mask & STATX_MNT_ID_UNIQUE))
        return stx.stx_mnt_id;
    return mount_id(fd, shown);
}

Result<bool> same_file(int a, int b)
{
    struct stat sa {}, sb {};
    if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0)
        return sys_error("cannot stat", "");
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

} // namespace chos::platform
