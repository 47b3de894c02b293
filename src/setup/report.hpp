// What a build did and what it could not do, for the command to print (library
// code never prints: STYLE.md).
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace chos::setup {

struct BuildReport {
    std::vector<std::string> notes;    // what was done (printed with --verbose)
    std::vector<std::string> warnings; // what was skipped or refused (always printed)
    std::vector<std::string> added_environments;
    std::vector<std::string> removed_environments;
    // Removed from the config but processes are still registered: kept mounted
    // until a later reload finds them empty.
    std::vector<std::pair<std::string, std::size_t>> kept_environments;

    void note(std::string text) { notes.push_back(std::move(text)); }
    void warn(std::string text) { warnings.push_back(std::move(text)); }
};

} // namespace chos::setup
