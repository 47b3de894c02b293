// Mounting and unmounting chos-linkfs, the way libfuse's util/fusermount.c
// teaches: validate the path, pin it as an fd, act on the fd.
//
// The mount point is opened once without following any symlink, checked (a directory
// root alone can write: docs/threat-model.md, class F: pre-created state), and the file
// system is attached to that pinned directory with the new mount API, so a path swapped
// afterwards cannot make the mount land elsewhere (symlink races; runc CVE-2021-30465).
// The platform layer does each of these steps (common/). libfuse then gets the
// /dev/fuse fd as "/dev/fd/N" and never mounts itself.
//
// A chos-linkfs that was killed leaves its mount answering ENOTCONN; a new daemon
// detaches that dead mount (and only a chos-linkfs one) and mounts afresh, so
// processes inside environments recover without a restart (docs/properties.md, P6).
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <string>

namespace chos::linkfs {

class FuseMount {
public:
    // allow_other, nosuid, nodev, noexec; fsname chos-linkfs, type fuse.chos.
    [[nodiscard]] static Result<FuseMount> mount(const std::string& mount_point);

    FuseMount() = default;
    FuseMount(FuseMount&&) noexcept = default;
    FuseMount& operator=(FuseMount&&) noexcept = default;
    FuseMount(const FuseMount&) = delete;
    FuseMount& operator=(const FuseMount&) = delete;
    // A mount not yet unmounted (a failed start) is detached here.
    ~FuseMount() { (void)unmount(); }

    // The /dev/fuse fd; hand it to libfuse as "/dev/fd/N" (libfuse then owns it).
    [[nodiscard]] int device_fd() const noexcept { return device_.get(); }
    void release_device() noexcept { device_.release(); }
    // Whether a stale dead mount was detached first (for the log).
    [[nodiscard]] bool replaced_dead_mount() const noexcept { return replaced_dead_; }

    // Detach exactly our mount: the one at the mount point whose id is ours; a mount
    // already detached by someone else is left alone (the daemon holds no reference
    // to its mount while it serves, so a detached tree ends the daemon).
    [[nodiscard]] Result<> unmount() noexcept;

private:
    std::string mount_point_;
    Fd device_;
    std::uint64_t mount_id_ = 0; // the attached mount (statx unique id), 0: none
    bool replaced_dead_ = false;
};

} // namespace chos::linkfs
