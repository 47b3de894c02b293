// Work the privileged launcher hands to a child, whose output the parent collects,
// bounded in size and time (the child is killed when it takes too long). Two kinds:
//
//  * run_as_user: the child drops to the user for good, then runs the body: ~/.chos
//    (docs/threat-model.md, class I). The caller owns that child (it may trace, stop or
//    signal it), so its output only ever chooses among what the allow-list permits.
//  * run_as_root_apart: the child stays root and is put out of the caller's reach
//    before the body runs: real, effective and saved ids all 0, no supplementary
//    groups, a session and process group of its own (no terminal signal, no SIGCONT of
//    the caller's session), not dumpable, resource limits and niceness the caller set
//    reset. A process whose real and saved uid are 0 can be neither ptraced nor
//    signalled by a user, so its output is the host's answer: the user database lookups
//    of the setuid launcher (user_db.hpp; docs/threat-model.md, class P), which decide
//    the allow-list and name the user in the audit line.
//
// The body execs or writes its answer to `out` and returns (the child then exits 0).
#pragma once

#include "config/choice.hpp"

#include <cstddef>
#include <string>

namespace chos::enter {

// Runs in the child after the change of identity; async-signal-safe calls only (we
// forked). Writes its answer to `out` and returns (the child then exits 0) or execs.
using ChildBody = void (*)(int out, const void* arg) noexcept;

struct ChildOutput {
    std::string data;        // at most max + 1 bytes: more means "too much"
    bool started = false;    // pipe and fork worked
    bool timed_out = false;  // killed after the timeout
    bool dropped = false;    // the child did take its identity (else it wrote nothing)
    int status = 0;          // the child's wait status

    // Exited by itself with status 0 after writing at most `max` bytes in time.
    [[nodiscard]] bool complete(std::size_t max) const;
};

[[nodiscard]] ChildOutput run_as_user(const config::User& user, ChildBody body, const void* arg,
                                      std::size_t max, int timeout_ms);

[[nodiscard]] ChildOutput run_as_root_apart(ChildBody body, const void* arg, std::size_t max, int timeout_ms);

} // namespace chos::enter
