// Pinned mount helpers on top of the new mount API (open_tree, mount_setattr,
// move_mount, fsopen/fsmount).
//
// The rule of this file (SECURITY.md class C): a mount never lands on a name. The
// target is first opened as a file descriptor, one component at a time beneath a
// pinned directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS), checked on the descriptor, and the new mount is attached
// to that descriptor with move_mount(MOVE_MOUNT_T_EMPTY_PATH). A directory swapped
// for a symlink to "/" by a RENAME_EXCHANGE loop makes the open fail (ELOOP) instead
// of redirecting the mount: runc CVE-2021-30465, bubblewrap CVE-2019-12439.
// Attributes (nosuid, nodev, propagation) are set on the detached copy before it is
// attached, so no mount is ever visible without them, not even for a moment.
//
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chos::setup {

// openat2 beneath `dirfd`: no symlink (not even the last component), no magic
// link, no "..", no absolute path. `relative` "" or "." is dirfd itself.
[[nodiscard]] Result<Fd> open_beneath(int dirfd, const std::string& relative, int flags,
                                      const std::string& shown);

// Where new mount points may be created: only on the file system `creatable_dev`
// (the tree's own tmpfs). A missing component on any other file system (inside a
// bind of the host) is an error: setup never writes outside its tmpfs.
struct CreateIn {
    int root = -1;          // pinned directory everything is resolved beneath
    dev_t creatable_dev = 0;
    std::string shown_root; // the root's path, for messages
};

// Make (if missing) every directory of `relative` beneath where.root with `mode`
// and return an O_PATH fd of the last one.
[[nodiscard]] Result<Fd> make_directories(const CreateIn& where, const std::string& relative,
                                          mode_t mode);

// Make (if missing) an empty regular file to serve as a file mount point; its
// parent directories are made as by make_directories. Returns an O_PATH fd.
[[nodiscard]] Result<Fd> make_file(const CreateIn& where, const std::string& relative, mode_t mode);

// An O_PATH fd of an administrator's path (config `bind:` sources, environment
// paths, shared files): those are trusted names and symlinks are followed, but the
// result is pinned so what was checked is what gets mounted.
[[nodiscard]] Result<Fd> open_source(const std::string& path);

struct BindAttributes {
    bool recursive = true;            // rbind: submounts come along
    std::uint64_t set = 0;            // MOUNT_ATTR_* to set (on every submount if recursive)
    std::uint64_t propagation = 0;    // MS_SLAVE, MS_PRIVATE or 0 (unchanged)
};

// Clone the mount (tree) at `source_fd`, give it `attributes` while it is still
// detached, attach it onto `target_fd`. Returns the new mount's root fd.
[[nodiscard]] Result<Fd> bind_onto(int source_fd, const std::string& shown_source, int target_fd,
                                   const std::string& shown_target, const BindAttributes& attributes);

// A new tmpfs (mode 0755, nosuid, nodev, source name "chos"), attached onto
// `target_fd` and made private so nothing mounted inside it propagates back out.
// Returns its root fd.
[[nodiscard]] Result<Fd> mount_tmpfs(int target_fd, const std::string& shown_target);

// Lazily unmount the mount whose root `mount_root_fd` is (with everything below
// it), through /proc/self/fd so no name is looked up again.
[[nodiscard]] Result<> detach(int mount_root_fd, const std::string& shown);

// Is fd the root of a mount? (STATX_ATTR_MOUNT_ROOT, asked with
// AT_STATX_DONT_SYNC so a FUSE mount's daemon is never consulted.)
[[nodiscard]] Result<bool> is_mount_root(int fd, const std::string& shown);

// The same file: device and inode (a bind's root is its source's inode).
[[nodiscard]] Result<bool> same_file(int a, int b);

// The path the kernel records for fd (readlink /proc/self/fd/N), as mountinfo
// spells it.
[[nodiscard]] Result<std::string> fd_path(int fd);

// One line of /proc/self/mountinfo.
struct MountInfo {
    int id = 0;
    int parent = 0;
    std::string mount_point; // unescaped
    std::string mount_options; // per-mount: rw,nosuid,nodev,...
    std::string fstype;
    std::string source;

    [[nodiscard]] bool has_option(const std::string& option) const;
};

[[nodiscard]] Result<std::vector<MountInfo>> read_mountinfo();

// The top-most mount at exactly `mount_point`, or nullptr.
[[nodiscard]] const MountInfo* top_mount_at(const std::vector<MountInfo>& mounts,
                                            const std::string& mount_point);

} // namespace chos::setup
