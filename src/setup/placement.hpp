// Where chos-setup mounts and writes: `tree:`, `run_dir:` and `registry.mount`
// (chos.yaml(5)). A tmpfs mounted over /etc hides the host's /etc; a cgroup hierarchy
// mounted over a directory with files hides them. So each of the three must be a
// directory that is no system directory, reached only through the administrator's
// directories (common/trusted_path.hpp), and either missing (chos-setup creates it),
// empty, or what CHOS made there: the tree CHOS mounted (its marker), a run directory
// holding only CHOS's files, a mount at the registry's place (the registry decides
// whether it is its own), an empty cgroup.
#pragma once

#include "config/config.hpp"

#include <string>
#include <vector>

namespace chos::setup {

// One message per problem, e.g. "tree '/etc': is a system directory".
[[nodiscard]] std::vector<std::string> placement_problems(const config::Config& config);

} // namespace chos::setup
