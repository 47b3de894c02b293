// Work done with a user's rights only, from the privileged launcher: a child drops to
// the user for good, runs a body, and its output is collected by the parent, bounded
// in size and time (the child is killed when it takes too long). Used for ~/.chos
// (docs/threat-model.md, class I) and for user-database lookups through getent (the setuid
// launcher never loads NSS modules into its own, privileged process).
#pragma once

#include "config/choice.hpp"

#include <cstddef>
#include <string>

namespace chos::enter {

// Runs in the child after the drop; async-signal-safe calls only (we forked). Writes
// its answer to `out` and returns (the child then exits 0) or execs.
using ChildBody = void (*)(int out, const void* arg) noexcept;

struct ChildOutput {
    std::string data;        // at most max + 1 bytes: more means "too much"
    bool started = false;    // pipe and fork worked
    bool timed_out = false;  // killed after the timeout
    bool dropped = false;    // the child did drop to the user (else it wrote nothing)
    int status = 0;          // the child's wait status
};

[[nodiscard]] ChildOutput run_as_user(const config::User& user, ChildBody body, const void* arg,
                                      std::size_t max, int timeout_ms);

} // namespace chos::enter
