// What chos-setup leaves for the launchers, so a launch reads instead of computing:
//   - the configuration snapshot beside the launcher's configuration
//     (config/snapshot.hpp: the validated Config and the exact text it came from),
//     only for the file the launcher itself reads (CHOS_CONFIG_PATH, or a file bound
//     over it), never for another one;
//   - the registry record in run_dir (registry.hpp, Registry::record: what
//     `registry.type: auto` resolved to).
// Both are written in one step, inside the run-directory lock, once start or reload
// succeeded, and withdrawn together at stop. A failure is a warning: launches then
// parse the configuration and look the registry up themselves.
#pragma once

#include "setup/commands.hpp"

namespace chos::setup {

// Write both (each atomically: a launch sees the old one or the new one). Warnings in
// `outcome`.
void publish_for_launchers(const Context& context, int run_dir_fd, Outcome& outcome);

// Remove both (run_dir_fd -1: no run directory, only the snapshot). Warnings in `outcome`.
void withdraw_for_launchers(const Context& context, int run_dir_fd, Outcome& outcome);

} // namespace chos::setup
