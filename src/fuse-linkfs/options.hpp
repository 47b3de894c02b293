// chos-linkfs's command line (chos-linkfs(8)), parsed once into a struct.
#pragma once

#include <optional>
#include <string>

namespace chos::linkfs {

struct Options {
    std::string mount_point;  // empty: <tree>/.chos/fs from the configuration
    std::string config_path;  // default CHOS_CONFIG_PATH
    bool foreground = false;
    bool debug = false;
};

// The options, or the exit status when there is nothing to run (--help,
// --version: 0; a usage error, already printed: 1).
struct ParsedOptions {
    Options options;
    std::optional<int> exit_status;
};

[[nodiscard]] ParsedOptions parse_options(int argc, char** argv);

} // namespace chos::linkfs
