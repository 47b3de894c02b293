// Starting and stopping a daemon from chos-setup (chos-linkfs, chos-guard), and running
// a program to its end (mksquashfs, mkfs.erofs, mmdebstrap for `image build`), one way:
// a clean exec, a bounded stop through a pidfd, a wait (docs/architecture.md "Platform
// layer").
#pragma once

#include "common/error.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::platform {

// fork + execve(binary, argv) with a clean environment (PATH only): the daemon's
// behaviour must not depend on the shell chos-setup was run from. The child gets stdin
// from /dev/null, our stdout and stderr (its errors before it detaches), no other
// descriptor (a run_dir lock above all) and no blocked signal. argv[0] is `comm`.
[[nodiscard]] Result<pid_t> spawn_daemon(const std::string& binary, std::string_view comm,
                                         const std::vector<std::string>& args);

// The same start for a program run to its end: a fixed argv (no shell), the clean
// environment plus `env` ("NAME=value" each).
[[nodiscard]] Result<pid_t> spawn_program(const std::string& binary, std::string_view comm,
                                          const std::vector<std::string>& args,
                                          const std::vector<std::string>& env);

// Wait for the child `pid` to end: its exit status, or 128 + the signal that killed it.
[[nodiscard]] Result<int> wait_program(pid_t pid, std::string_view comm);

// Signal the daemon `pid` (if it is still a live process called `comm`) to exit:
// SIGTERM (and SIGCONT, so a stopped one sees it), SIGKILL after `grace`. Through a
// pidfd, so a reused pid is never signalled. Nothing running is fine.
[[nodiscard]] Result<> terminate_daemon(pid_t pid, std::string_view comm,
                                        std::chrono::milliseconds grace = std::chrono::seconds(5));

} // namespace chos::platform
