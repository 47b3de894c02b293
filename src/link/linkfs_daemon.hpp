// chos-linkfs as chos-setup sees it (the fuse backend's setup side, fuse.cpp): started
// on <tree>/.chos/fs, found again through <run_dir>/linkfs.pid (common/pid_file.hpp),
// checked, stopped, and replaced when it died (docs/properties.md P6: processes
// inside environments recover without a restart because the tree itself is static;
// only the FUSE mount under it is new).
//
// Nothing here touches the FUSE mount from this process: a stopped or hung daemon would
// hang the caller. The mount is found in mountinfo, and the one request that proves the
// daemon answers (readlink of "link") is made by a child that is killed when it takes
// too long (docs/threat-model.md, class L: daemon faults). Library code: returns Result
// values, never prints.
#pragma once

#include "common/error.hpp"
#include "link/backend.hpp"

#include <chrono>
#include <string>
#include <sys/types.h>

namespace chos::link {

enum class LinkAnswer {
    none,      // not asked (nothing mounted)
    answers,   // readlink worked
    dead,      // ENOTCONN: the daemon of this mount is gone
    fails,     // another error
    hangs,     // no answer in time (stopped or stuck daemon)
};

struct DaemonProbe {
    pid_t pid = 0;          // from the pid file; 0 when there is none
    bool running = false;   // that pid is a live chos-linkfs
    bool stopped = false;   // ... in state T (SIGSTOP)
    bool mounted = false;   // a FUSE mount sits on <tree>/.chos/fs
    LinkAnswer answer = LinkAnswer::none;
    std::string detail;     // errno text of a failing answer

    [[nodiscard]] bool healthy() const { return running && !stopped && mounted && answer == LinkAnswer::answers; }
};

[[nodiscard]] Result<DaemonProbe> probe_daemon(const SetupPlace& place);

enum class DaemonAction { kept, started, restarted };

// Leave a healthy daemon alone; otherwise stop what is left of it, detach a dead
// or hung mount, and start a new daemon on the same mount point.
[[nodiscard]] Result<DaemonAction> ensure_daemon(const SetupPlace& place);

// SIGTERM (then SIGKILL after a grace period) the daemon of the pid file, detach
// its mount if it is still there, remove the pid file. Nothing running is fine.
[[nodiscard]] Result<> stop_daemon(const SetupPlace& place);

// "<what> (pid N)" for status lines.
[[nodiscard]] std::string describe(const DaemonProbe& probe);

} // namespace chos::link
