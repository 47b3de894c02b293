// Step 9: the child's environment variables and personality.
#include "enter/steps.hpp"

#include "common/layout.hpp"

#include <algorithm>
#include <sys/personality.h>

namespace chos::enter {

namespace {

using Vars = std::vector<std::pair<std::string, std::string>>;

void apply_rules(Vars& vars, const config::EnvironmentRules& rules)
{
    if (rules.keep) {
        const auto& keep = *rules.keep;
        std::erase_if(vars, [&](const auto& v) { return std::find(keep.begin(), keep.end(), v.first) == keep.end(); });
    }
    for (const auto& name : rules.unset)
        std::erase_if(vars, [&](const auto& v) { return v.first == name; });
    for (const auto& [name, value] : rules.set) {
        auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
        if (it != vars.end())
            it->second = value;
        else
            vars.emplace_back(name, value);
    }
}

void set_var(Vars& vars, const std::string& name, std::string value)
{
    auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end())
        it->second = std::move(value);
    else
        vars.emplace_back(name, std::move(value));
}

} // namespace

namespace {

Vars caller_vars(char** caller_env)
{
    Vars vars;
    for (char** e = caller_env; e && *e; ++e) {
        std::string_view entry(*e);
        auto eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0)
            continue; // not NAME=value: dropped
        std::string name(entry.substr(0, eq));
        if (std::any_of(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; }))
            continue; // duplicates: the first wins, as getenv() sees it
        vars.emplace_back(std::move(name), std::string(entry.substr(eq + 1)));
    }
    return vars;
}

std::vector<std::string> to_envp(Vars& vars)
{
    std::vector<std::string> envp;
    envp.reserve(vars.size());
    for (auto& [name, value] : vars)
        envp.push_back(name + "=" + value);
    return envp;
}

} // namespace

std::vector<std::string> caller_environment(char** caller_env)
{
    Vars vars = caller_vars(caller_env);
    return to_envp(vars);
}

std::vector<std::string> child_environment(char** caller_env, const config::Config& config,
                                           const config::Environment& env)
{
    Vars vars = caller_vars(caller_env);
    apply_rules(vars, config.rules);
    apply_rules(vars, env.rules);
    set_var(vars, "CHOS", env.name);
    if (!env.is_host()) {
        // The launcher lives at /.chos/bin inside the tree (docs/architecture.md "The
        // tree"): on PATH, so switching from inside works.
        const std::string launchers(layout::launcher_dir_inside);
        auto it = std::find_if(vars.begin(), vars.end(), [](const auto& v) { return v.first == "PATH"; });
        if (it == vars.end())
            vars.emplace_back("PATH", "/usr/local/bin:/usr/bin:/bin:" + launchers);
        else {
            const std::string& path = it->second;
            const std::string colon = ":" + path + ":";
            if (colon.find(":" + launchers + ":") == std::string::npos)
                it->second = path.empty() ? launchers : path + ":" + launchers;
        }
    }
    return to_envp(vars);
}

Result<> apply_personality(const config::Environment& env)
{
    // The environment's personality, not the caller's: a personality survives exec, so
    // switching from a linux32 environment to a 64-bit one must set linux back
    // (chos.yaml(5): default linux). Flags the caller chose (setarch -R ...) are kept.
    const int current = ::personality(0xffffffff);
    if (current == -1)
        return sys_error("cannot read the personality");
    const bool linux32 = env.personality == config::Personality::linux32;
    const unsigned long want = linux32 ? PER_LINUX32 : PER_LINUX;
    const unsigned long flags = static_cast<unsigned long>(current) & ~static_cast<unsigned long>(PER_MASK);
    if ((static_cast<unsigned long>(current) & PER_MASK) != want && ::personality(flags | want) == -1)
        return sys_error("cannot set the personality", linux32 ? "linux32" : "linux");
    return {};
}

} // namespace chos::enter
