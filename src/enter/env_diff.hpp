// The environment a login (pam_chos) or a job's task (spank_chos) is left with: its
// host program's environment, made equal to what enter() computed for the child
// (CHOS=<name>, the configuration's keep/unset/set rules, PATH reaching /.chos/bin) by
// setting and unsetting the difference through the host program's own interface.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chos::enter {

struct EnvironmentDiff {
    std::vector<std::string> set;   // "NAME=value" entries to set (new or changed)
    std::vector<std::string> unset; // names to remove
};

// What turns `before` (NAME=value entries, NULL-terminated) into `after`. Entries
// without a name are ignored.
[[nodiscard]] EnvironmentDiff diff_environment(char** before, const std::vector<std::string>& after);

} // namespace chos::enter
