// `chos-setup check`: everything wrong with a configuration, at once.
#pragma once

#include "config/config.hpp"
#include "config/yaml_config.hpp"

#include <vector>

namespace chos::setup {

// Problems of a parsed configuration that only the machine can tell: environment
// trees that are missing, not root-owned or writable by others (docs/threat-model.md,
// class H: setuid and devices in trees), reached through a directory someone else
// controls (common/trusted_path.hpp), or with top levels (os_dirs) others can write
// (a warning); a tree, run directory or registry mount point that is a system directory
// or not empty (setup/placement.hpp); bind sources and shared files that do not exist,
// users and groups NSS does not know.
// Errors and warnings are kept apart: only errors make `check` fail. `start` and
// `reload` run exactly this before they touch anything, and refuse on any error.
struct CheckReport {
    std::vector<config::Diagnostic> errors;
    std::vector<config::Diagnostic> warnings;
    // Images refused (common/image_file.hpp): errors for `check`; start and reload
    // check each image again on the descriptor they mount and leave out only that
    // environment (docs/images.md).
    std::vector<config::Diagnostic> images;
};

[[nodiscard]] CheckReport check_system(const config::Config& config);

// The short summary printed when a configuration is accepted.
[[nodiscard]] std::string summary(const config::Config& config);

} // namespace chos::setup
