// Making mount points and mounts inside the tree (on top of the platform's pinned opens
// and name-free mounting: common/pinned_open.hpp, common/mount_ops.hpp, whose rule
// this file keeps -- a mount never lands on a name).
//
// Mount points are only ever created on the tree's own tmpfs, one component at a
// time beneath a pinned directory: a directory swapped for a symlink to "/" by a
// RENAME_EXCHANGE loop makes the walk fail instead of creating or mounting anything
// outside (docs/threat-model.md, class C: symlink races).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/mount_ops.hpp"
#include "common/mountinfo.hpp"
#include "common/pinned_open.hpp"

#include <string>
#include <sys/types.h>

namespace chos::setup {

// What the tree commands use of the platform layer, by their short names.
using platform::bind_onto;
using platform::BindAttributes;
using platform::detach;
using platform::fd_path;
using platform::is_mount_root;
using platform::MountEntry;
using platform::open_source;
using platform::read_mountinfo;
using platform::same_file;
using platform::top_mount_at;

// openat2 beneath `dirfd`: no symlink (not even the last component), no magic link,
// no "..", no absolute path. `relative` "" or "." is dirfd itself.
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

// A new tmpfs (mode 0755, nosuid, nodev, source name "chos"), attached onto
// `target_fd` and made private so nothing mounted inside it propagates back out.
// Returns its root fd.
[[nodiscard]] Result<Fd> mount_tmpfs(int target_fd, const std::string& shown_target);

// Is a file system mounted at exactly this path?
[[nodiscard]] Result<bool> mounted_at(const std::string& path);

} // namespace chos::setup
