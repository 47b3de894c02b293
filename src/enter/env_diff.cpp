// The environment difference (see env_diff.hpp).
#include "enter/env_diff.hpp"

#include <algorithm>
#include <string_view>

namespace chos::enter {

namespace {

// "NAME" of "NAME=value"; empty for an entry without a name.
std::string_view name_of(std::string_view entry)
{
    const auto eq = entry.find('=');
    return eq == std::string_view::npos ? std::string_view{} : entry.substr(0, eq);
}

} // namespace

EnvironmentDiff diff_environment(char** before, const std::vector<std::string>& after)
{
    EnvironmentDiff diff;
    for (const auto& entry : after) {
        if (name_of(entry).empty())
            continue;
        bool same = false;
        for (char** e = before; e && *e && !same; ++e)
            same = entry == *e;
        if (!same)
            diff.set.push_back(entry);
    }
    for (char** e = before; e && *e; ++e) {
        const std::string_view name = name_of(*e);
        if (name.empty())
            continue;
        const bool kept = std::any_of(after.begin(), after.end(),
                                      [&](const std::string& a) { return name_of(a) == name; });
        if (!kept && std::find(diff.unset.begin(), diff.unset.end(), name) == diff.unset.end())
            diff.unset.emplace_back(name);
    }
    return diff;
}

} // namespace chos::enter
