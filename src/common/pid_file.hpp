// The daemon's pid file, <run_dir>/linkfs.pid: written by chos-linkfs once it serves,
// read by chos-setup (to stop, probe or replace it) and by the launcher (to refuse a
// launch while the daemon is gone or stopped: docs/threat-model.md, class L: daemon
// faults). One reader, one liveness rule, one writer (docs/architecture.md "The link").
//
// Only a root-owned regular file is believed: a pid planted by someone else must
// never make chos-setup signal another process or the launcher trust a dead daemon.
#pragma once

#include "common/error.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace chos::platform {

// The name the kernel shows for the daemon (/proc/<pid>/stat, comm).
inline constexpr std::string_view linkfs_comm = "chos-linkfs";
// ... and for the mount guard (its pid file: layout::guard_pid_file_name).
inline constexpr std::string_view guard_comm = "chos-guard";

// The pid in `name` below `dirfd` (AT_FDCWD and an absolute path work too), opened
// without following a symlink. 0 when there is no such file or it holds no pid (> 1).
// An error when it is not a root-owned regular file or cannot be read.
[[nodiscard]] Result<pid_t> read_pid_file(int dirfd, const std::string& name, const std::string& shown);

enum class DaemonState {
    gone,    // no such process, or not the daemon (the pid was reused), or a zombie
    running,
    stopped, // SIGSTOP or traced: a request to it would hang its caller
};

// The one liveness rule: /proc/<pid>/stat read once, the process's name must be
// `comm` and its state says whether it can answer.
[[nodiscard]] DaemonState daemon_state(pid_t pid, std::string_view comm = linkfs_comm);

// The process's start time (/proc/<pid>/stat field 22, clock ticks since boot), read
// once: with the pid it names one process for good (a reused pid has a later start).
// 0 when the process is gone or the file cannot be parsed.
[[nodiscard]] unsigned long long process_start_time(pid_t pid);

// Write the pid (atomically: see replace_file) into `name` below `dirfd`.
[[nodiscard]] Result<> write_pid_file(int dirfd, const std::string& name, pid_t pid, const std::string& shown_dir);

// Remove `name` when it still holds `expected` (0: whatever it holds); a successor's
// pid file is kept.
void remove_pid_file(int dirfd, const std::string& name, pid_t expected) noexcept;

} // namespace chos::platform
