// Detaching a daemon from the terminal so that the parent's exit status means "serving"
// (or "failed", with the reason already on stderr): the parent waits for the child's
// verdict through a pipe. libfuse's fuse_daemonize() lets the parent exit before the
// caller knows whether the mount and the pid file exist, which chos-setup and init
// scripts would have to poll for. Used by chos-linkfs and chos-guard, whose start-up
// ends the same way: announce_serving.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

namespace chos::platform {

class OwnPidFile;

class Daemon {
public:
    // Fork; the parent waits and exits, the child returns (new session, cwd /).
    // In the foreground: nothing happens.
    [[nodiscard]] static Result<Daemon> detach(bool foreground);

    // The child is serving: stdio to /dev/null, tell the parent to exit 0.
    void ready() noexcept;
    // The child failed (reason already printed): the parent exits 1. Also what
    // happens if the child dies before ready().
    void failed() noexcept;

    [[nodiscard]] bool detached() const noexcept { return detached_; }

private:
    Fd pipe_;
    bool detached_ = false;
};

// The end of a daemon's start-up: its pid file written (own_pid_file.hpp) -- readers
// take it as "serving" -- then, when it detached, `quiet()` (its messages move off
// stderr, which ready() points at /dev/null) and ready(). On an error nothing is told:
// the caller reports it and calls failed().
[[nodiscard]] Result<> announce_serving(Daemon& daemon, OwnPidFile& pid_file, void (*quiet)());

} // namespace chos::platform
