// Mounting the registry (see mounting.hpp).
#include "registry/mounting.hpp"

#include "common/mount_ops.hpp"
#include "common/pinned_open.hpp"
#include "common/root_only.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>

namespace chos::registry {

Result<Fd> pin_mount_point(const std::string& path)
{
    return platform::ensure_root_directory(path, "refusing registry mount point");
}

bool is_refusal(int err)
{
    return err == EINVAL || err == EPERM || err == ENODEV || err == ENOENT || err == EOPNOTSUPP;
}

Result<Fd> mount_named_cgroup1(int target, const std::string& name, const std::string& shown)
{
    return platform::mount_new("cgroup", {{"none", nullptr}, {"name", name.c_str()}},
                               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, target, shown);
}

Result<Fd> bind_cgroup2(int target, const std::string& source, const std::string& shown)
{
    auto from = platform::open_source(source);
    if (!from)
        return std::unexpected(from.error());
    platform::BindAttributes attributes;
    attributes.recursive = false;
    attributes.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    return platform::bind_onto(from->get(), source, target, shown, attributes);
}

bool is_named_cgroup1(const platform::MountEntry& m, const std::string& name)
{
    return m.fstype == "cgroup" && m.has_super_option("name=" + name);
}

bool is_cgroup2_root(const platform::MountEntry& m)
{
    return m.fstype == "cgroup2" && m.root == "/";
}

Result<std::string> system_cgroup2_root(const std::vector<platform::MountEntry>& mounts, const std::string& except)
{
    for (const auto& m : mounts)
        if (is_cgroup2_root(m) && m.mount_point != except)
            return m.mount_point;
    return error("cannot find the cgroup2 hierarchy", "/proc/self/mountinfo", "no cgroup2 file system is mounted");
}

} // namespace chos::registry
