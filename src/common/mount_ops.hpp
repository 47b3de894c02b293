// Mounting without names, on the new mount API (open_tree, mount_setattr, fsopen,
// fsmount, move_mount; Linux >= 5.12): docs/architecture.md "Platform layer".
//
// The rule (docs/threat-model.md, class C: symlink races): a mount never lands on a
// name. The target is first pinned as a file descriptor (pinned_open.hpp) and checked
// there; the new mount is attached to that descriptor (MOVE_MOUNT_T_EMPTY_PATH).
// Attributes (nosuid, nodev, propagation) are set on the detached mount before it is
// attached, so no mount is ever visible without them, not even for a moment. Unmounting
// goes through /proc/self/fd/N of the mount's own root, so no name is looked up again.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>

namespace chos::platform {

struct BindAttributes {
    bool recursive = true;         // rbind: submounts come along
    std::uint64_t set = 0;         // MOUNT_ATTR_* to set (on every submount if recursive)
    std::uint64_t propagation = 0; // MS_SLAVE, MS_PRIVATE or 0 (unchanged)
};

// Clone the mount (tree) at `source_fd`, give it `attributes` while it is still
// detached, attach it onto `target_fd`. Returns the new mount's root fd.
[[nodiscard]] Result<Fd> bind_onto(int source_fd, const std::string& shown_source, int target_fd,
                                   const std::string& shown_target, const BindAttributes& attributes);

// One fsconfig(2) setting of a new file system: a string, or a flag when value is null.
struct FsSetting {
    const char* key;
    const char* value;
};

// A new file system of `type` with `settings`, mounted with MOUNT_ATTR_* `attributes`
// and attached onto `target_fd`. Returns the attached mount's root fd: keep working
// through it, the target's name may have been swapped since it was pinned.
[[nodiscard]] Result<Fd> mount_new(const char* type, std::initializer_list<FsSetting> settings,
                                   std::uint64_t attributes, int target_fd, const std::string& shown_target);

// Add MOUNT_ATTR_* `set` to the one mount whose root `mount_root_fd` is (not its
// submounts), in the caller's mount namespace: mount_setattr(2) refuses a mount of
// another namespace, so a caller watching several first setns(2)s into the mount's.
[[nodiscard]] Result<> add_attributes(int mount_root_fd, std::uint64_t set, const std::string& shown);

// Lazily unmount the mount whose root `mount_root_fd` is (with everything below it).
[[nodiscard]] Result<> detach(int mount_root_fd, const std::string& shown);

// Is fd the root of a mount? (STATX_ATTR_MOUNT_ROOT, asked with AT_STATX_DONT_SYNC so
// a FUSE mount's daemon is never consulted.)
[[nodiscard]] Result<bool> is_mount_root(int fd, const std::string& shown);

// The fd's mount id (the one /proc/self/mountinfo shows), asked without a request to
// the file system (a dead FUSE mount must not be sent one).
[[nodiscard]] Result<std::uint64_t> mount_id(int fd, const std::string& shown);
// A mount id the kernel never reuses (Linux 6.8+), else the classic one.
[[nodiscard]] Result<std::uint64_t> unique_mount_id(int fd, const std::string& shown);

// The same file: device and inode (a bind's root is its source's inode).
[[nodiscard]] Result<bool> same_file(int a, int b);

} // namespace chos::platform
