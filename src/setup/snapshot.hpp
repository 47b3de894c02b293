// The configuration snapshot the launcher reads instead of parsing chos.yaml
// (config/snapshot.hpp): chos-setup publishes it after a successful start or reload
// and withdraws it at stop -- only for the configuration the launcher itself reads
// (CHOS_CONFIG_PATH, or a file bound over it), never for another file.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"

#include <string>
#include <string_view>

namespace chos::setup {

// Write the snapshot of `config`, parsed from `text` read at `config_path`, beside the
// launcher's configuration (atomically: a launch sees the old one or the new one).
// Nothing when `config_path` is not that file. An error leaves launches parsing.
[[nodiscard]] Result<> publish_snapshot(const std::string& config_path, std::string_view text,
                                        const config::Config& config);

// Remove the launcher's snapshot when `config_path` is the launcher's configuration.
[[nodiscard]] Result<> withdraw_snapshot(const std::string& config_path);

} // namespace chos::setup
