// Opening a path so that what is checked is what is used (docs/architecture.md
// "Platform layer"; docs/threat-model.md, class C: symlink races).
//
// Every privileged open of a path that someone else might be able to change goes
// through openat2(2) with RESOLVE_* flags: below a directory already pinned as an fd
// (RESOLVE_BENEATH), never through a symlink (RESOLVE_NO_SYMLINKS, not even the last
// component) nor a magic /proc link, and where asked never onto another file system
// (RESOLVE_NO_XDEV). A directory swapped for a symlink to "/" by a RENAME_EXCHANGE
// loop then makes the open fail (ELOOP) instead of redirecting a write or a mount
// (runc CVE-2021-30465, bubblewrap CVE-2019-12439). Needs Linux >= 5.6.
//
// The kernel's refusals are turned into words here, once: ELOOP "a symbolic link is
// in the way", EXDEV "leads onto another file system".
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <fcntl.h>
#include <linux/openat2.h>
#include <optional>
#include <string>

namespace chos::platform {

// No symlink anywhere on the way, no magic link (/proc/self/fd/N).
inline constexpr std::uint64_t resolve_no_links = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
// ... and never above the directory the path is resolved from (no "..", no absolute path).
inline constexpr std::uint64_t resolve_beneath = RESOLVE_BENEATH | resolve_no_links;
// ... and never onto another mount's file system (the cgroup registry's files).
inline constexpr std::uint64_t resolve_beneath_same_fs = resolve_beneath | RESOLVE_NO_XDEV;

// openat2(dirfd, path, flags | O_CLOEXEC, resolve), retried on EINTR and EAGAIN (the
// kernel's answer to a concurrent rename under RESOLVE_* lookups). -1 and errno on
// failure: for the few callers that must not allocate (after fork).
[[nodiscard]] int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) noexcept;

// The same as a Result. `relative` "" means dirfd itself. On failure the error says
// `what` and `shown`, with ELOOP and EXDEV in words (see the file comment).
[[nodiscard]] Result<Fd> open_pinned(int dirfd, const std::string& relative, int flags, std::uint64_t resolve,
                                     const std::string& shown, const char* what = "cannot open");

// An absolute directory with no symlink anywhere on the way (O_PATH unless told).
[[nodiscard]] Result<Fd> open_directory(const std::string& path, int flags = O_PATH);

// The error open_pinned() makes of the current errno.
[[nodiscard]] std::unexpected<Error> pinned_open_error(const char* what, const std::string& shown);

// An O_PATH fd of an administrator's path (bind sources, environment trees, shared
// files): trusted names whose symlinks are followed, pinned so that what was checked
// is what gets mounted.
[[nodiscard]] Result<Fd> open_source(const std::string& path);

// The path the kernel records for fd (readlink of /proc/self/fd/N): how
// /proc/self/mountinfo spells it.
[[nodiscard]] Result<std::string> fd_path(int fd);

// The target of the symlink `name` in the pinned directory `dirfd`; nullopt when
// `name` is missing or not a symlink.
[[nodiscard]] Result<std::optional<std::string>> read_symlink_at(int dirfd, const std::string& name,
                                                                 const std::string& shown);

// Make `name` in the pinned directory `dirfd` a symlink to `target`. A symlink already
// there with that target is fine; anything else there is an error.
[[nodiscard]] Result<> ensure_symlink_at(int dirfd, const std::string& name, const std::string& target,
                                         const std::string& shown);

} // namespace chos::platform
