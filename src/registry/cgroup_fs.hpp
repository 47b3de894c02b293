// What both registry backends do with cgroup file systems (internal to src/registry).
//
// Every path below a registry root is opened relative to a pinned directory fd, never
// through a symlink and never onto another file system (common/pinned_open.hpp), and
// ownership is checked on the opened object (common/root_only.hpp): a directory
// swapped for a symlink between check and use can never redirect a write, and a
// cgroup someone else could write is never adopted (docs/threat-model.md, classes
// C and K2: symlink races, forged registrations).
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <array>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::registry {

// A name below a pinned cgroup directory: no symlink, no "..", same file system.
[[nodiscard]] Result<Fd> open_below(int dirfd, const std::string& name, int flags, const std::string& shown);

// The directory fd is on a file system of this type (CGROUP_SUPER_MAGIC, CGROUP2_...).
[[nodiscard]] Result<> check_fs(int fd, long magic, const std::string& shown, const char* expected);

// A registry object anyone but root could write would let a user move processes:
// cgroup directories and their cgroup.procs must be root's alone (cgroup v1
// CVE-2022-0492 was about exactly such files).
[[nodiscard]] Result<> check_root_only(int fd, const std::string& shown, bool directory);

// mkdir `name` 0755 below dirfd (the mode is part of the contract, whatever the umask);
// an existing one is fine (the caller then checks whose it is).
[[nodiscard]] Result<> make_cgroup(int dirfd, const std::string& name, const std::string& shown, const char* what);

// Write pid to an open cgroup.procs.
[[nodiscard]] Result<> write_pid(int procs_fd, pid_t pid, const std::string& shown);

// Names of the subdirectories (child cgroups) of an open directory.
[[nodiscard]] Result<std::vector<std::string>> child_cgroups(int dirfd, const std::string& shown);

// Processes in a cgroup (lines of its cgroup.procs).
[[nodiscard]] Result<std::size_t> count_procs(int cgroup_dir, const std::string& shown);

// "a, b, c"
[[nodiscard]] std::string join_names(const std::vector<std::string>& names);

// /proc/<pid>/cgroup, read for membership(): the fast path of chos-linkfs's cache
// misses (~9 us): one open, one read into a fixed buffer; a full buffer means there
// may be more, then read on. A short read of a seq_file means its end; even if it did
// not, the parsers only trust newline-terminated lines and fail closed on a missing one.
class ProcCgroup {
public:
    [[nodiscard]] Result<std::string_view> read(pid_t pid);

private:
    std::array<char, 8192> buf_{};
    std::string spill_;
};

} // namespace chos::registry
