// Mounting the registry (internal to src/registry): chos-setup's side of resolve.cpp,
// and the remount that releases a named hierarchy (cgroup1.cpp).
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/mountinfo.hpp"

#include <string>
#include <vector>

namespace chos::registry {

// The registry mount point, created 0755 if missing, pinned as an fd. A pre-created one
// that root does not own alone is refused, never adopted (Singularity CVE-2019-11328);
// the mount lands on the pinned directory itself, whatever happens to the path later.
[[nodiscard]] Result<Fd> pin_mount_point(const std::string& path);

// mount -t cgroup -o none,name=<name>, nosuid,nodev,noexec, onto the pinned fd. No
// release_agent is ever set (CVE-2022-0492). Returns the attached mount's own fd.
[[nodiscard]] Result<Fd> mount_named_cgroup1(int target, const std::string& name, const std::string& shown);

// Bind the system's cgroup2 hierarchy at the registry mount point: the fallback's
// marker and the root its leaves are made under. A bind, not a new cgroup2 mount:
// mounting cgroup2 again would reapply (and so reset) the superblock's options such as
// nsdelegate.
[[nodiscard]] Result<Fd> bind_cgroup2(int target, const std::string& source, const std::string& shown);

// Errors meaning "this kernel (or this container) does not do named v1 hierarchies",
// where `auto` falls back to cgroup2. Anything else (EBUSY: a hierarchy of that name
// exists with other options) is a real error.
[[nodiscard]] bool is_refusal(int err);

// What is mounted where, as the registry reads it.
[[nodiscard]] bool is_named_cgroup1(const platform::MountEntry& m, const std::string& name);
[[nodiscard]] bool is_cgroup2_root(const platform::MountEntry& m);
// The system's cgroup2 mount (systemd's /sys/fs/cgroup or, hybrid, .../unified).
[[nodiscard]] Result<std::string> system_cgroup2_root(const std::vector<platform::MountEntry>& mounts,
                                                      const std::string& except);

} // namespace chos::registry
