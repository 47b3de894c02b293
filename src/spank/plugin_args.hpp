// The arguments of the spank_chos line in plugstack.conf, parsed once.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chos::spank {

struct PluginArgs {
    std::optional<bool> fail_to_default;    // empty: the config's fail_to_default
    std::optional<std::string> user_file;   // empty: the config's user_file; "" = none
};

// "fail_to_default=yes|no|true|false|1|0", "user_file=NAME" (a file name in $HOME,
// no '/'; empty = do not read one). Anything else is an error naming the argument.
struct ParsedArgs {
    PluginArgs args;
    std::string error; // "" when every argument was understood
};
[[nodiscard]] ParsedArgs parse_plugin_args(const std::vector<std::string>& argv);

} // namespace chos::spank
