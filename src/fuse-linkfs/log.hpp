// chos-linkfs's messages: stderr in the foreground, syslog (LOG_DAEMON) once detached
// (docs/architecture.md "Conventions"). Messages about a caller are rate-limited per
// uid, so one user's flood of failing lookups cannot flood the log or hide other users'
// messages (docs/threat-model.md, class L: daemon faults).
//
// Everything here is noexcept and formats into fixed buffers: it is called from
// FUSE callbacks, which must answer exactly once and never throw.
#pragma once

#include <sys/types.h>

namespace chos::linkfs::log {

// Start on stderr; `debug` enables debug() lines.
void init(bool debug) noexcept;
// From now on to syslog (after detaching from the terminal).
void use_syslog() noexcept;
[[nodiscard]] bool debug_enabled() noexcept;

// One line, "chos-linkfs: " + message on stderr; the message alone in syslog.
void error(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));
void notice(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));
void debug(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));

// A notice about a request from `uid`: at most a burst per uid and time window;
// what was dropped is counted and reported when the window reopens.
void caller_notice(uid_t uid, const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));

} // namespace chos::linkfs::log
