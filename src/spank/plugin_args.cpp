#include "spank/plugin_args.hpp"

#include "config/names.hpp"

namespace chos::spank {

namespace {

std::optional<bool> parse_bool(const std::string& text)
{
    if (text == "yes" || text == "true" || text == "1")
        return true;
    if (text == "no" || text == "false" || text == "0")
        return false;
    return std::nullopt;
}

} // namespace

ParsedArgs parse_plugin_args(const std::vector<std::string>& argv)
{
    ParsedArgs parsed;
    for (const auto& arg : argv) {
        const auto eq = arg.find('=');
        const std::string key = arg.substr(0, eq);
        const std::string value = eq == std::string::npos ? std::string() : arg.substr(eq + 1);
        if (eq != std::string::npos && key == "fail_to_default") {
            parsed.args.fail_to_default = parse_bool(value);
            if (!parsed.args.fail_to_default) {
                parsed.error = "plugin argument '" + config::quote_for_message(arg) + "': expected yes or no";
                return parsed;
            }
        } else if (eq != std::string::npos && key == "user_file") {
            // A name inside $HOME, never a path: it is opened relative to the home.
            if (value.find('/') != std::string::npos || value == "." || value == "..") {
                parsed.error = "plugin argument '" + config::quote_for_message(arg) +
                               "': a file name in the user's home, without '/'";
                return parsed;
            }
            parsed.args.user_file = value;
        } else {
            parsed.error = "unknown plugin argument '" + config::quote_for_message(arg) +
                           "' (see spank_chos(8))";
            return parsed;
        }
    }
    return parsed;
}

} // namespace chos::spank
