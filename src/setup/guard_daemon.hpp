// chos-guard as chos-setup sees it (docs/architecture.md "The mount guard"): started by
// start and reload when it is not running (for every link backend), stopped first by
// stop, shown by status. With a backend whose serve makes new namespaces (namespace), start
// and reload restart it after serve: it watches the namespaces of the moment it starts. Found through <run_dir>/guard.pid (common/pid_file.hpp).
#pragma once

#include "common/error.hpp"
#include "setup/commands.hpp"

#include <string>

namespace chos::setup {

enum class GuardAction { kept, started, restarted, renewed };

// Leave a running chos-guard alone unless `renew` (then stop it: renewed); otherwise
// (none, or one stopped by a signal) start one and wait until it watches (its pid file is
// written after its first pass, over every namespace it watches).
[[nodiscard]] Result<GuardAction> ensure_guard(const Context& context, int run_dir_fd, bool renew);

// Stop the chos-guard of the pid file, remove the pid file. Nothing running is fine.
[[nodiscard]] Result<> stop_guard(const Context& context, int run_dir_fd);

// "chos-guard pid N running" or what is wrong; `ok` false when it is not watching.
[[nodiscard]] std::string guard_status(const Context& context, bool& ok);

} // namespace chos::setup
