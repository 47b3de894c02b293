// What a build did and what it could not do, for the command's outcome (library
// code never prints: docs/architecture.md "Layering").
#pragma once

#include "common/report.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace chos::setup {

struct BuildReport : Report {
    std::vector<std::string> added_environments;
    std::vector<std::string> removed_environments;
    // Removed from the config but processes are still registered: kept mounted
    // until a later reload finds them empty.
    std::vector<std::pair<std::string, std::size_t>> kept_environments;
    // Image environments left out (one line each: environment, file, reason) and those
    // whose new image is served from now on (docs/images.md).
    std::vector<std::string> refused;
    std::vector<std::string> updated_images;
};

} // namespace chos::setup
