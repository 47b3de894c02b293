#include "config/config.hpp"

#include <algorithm>

namespace chos::config {

const Environment* Config::find(std::string_view name) const
{
    auto it = std::find_if(environments.begin(), environments.end(),
                           [&](const Environment& env) { return env.name == name; });
    return it == environments.end() ? nullptr : &*it;
}

std::string_view host_command_name(std::string_view entry)
{
    auto slash = entry.rfind('/');
    return slash == std::string_view::npos ? entry : entry.substr(slash + 1);
}

const std::string* Config::find_host_command(std::string_view name) const
{
    auto it = std::find_if(host_commands.begin(), host_commands.end(),
                           [&](const std::string& entry) { return host_command_name(entry) == name; });
    return it == host_commands.end() ? nullptr : &*it;
}

const std::vector<std::string>& default_os_dirs()
{
    static const std::vector<std::string> dirs{"bin",  "boot",   "etc",  "lib", "lib32", "lib64",
                                               "libx32", "opt", "sbin", "usr", "var"};
    return dirs;
}

} // namespace chos::config
