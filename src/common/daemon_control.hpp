// Starting and stopping a daemon from chos-setup (chos-linkfs, chos-guard), one way:
// a clean exec and a bounded stop through a pidfd (docs/architecture.md "Platform
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

// Signal the daemon `pid` (if it is still a live process called `comm`) to exit:
// SIGTERM (and SIGCONT, so a stopped one sees it), SIGKILL after `grace`. Through a
// pidfd, so a reused pid is never signalled. Nothing running is fine.
[[nodiscard]] Result<> terminate_daemon(pid_t pid, std::string_view comm,
                                        std::chrono::milliseconds grace = std::chrono::seconds(5));

} // namespace chos::platform
