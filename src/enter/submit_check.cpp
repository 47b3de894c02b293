// The check at submission (see submit_check.hpp).
#include "enter/submit_check.hpp"

#include "config/choice.hpp"
#include "config/yaml_config.hpp"
#include "enter/user_db.hpp"

#include <unistd.h>

#include <vector>

namespace chos::enter {

namespace {

// The calling process's user, as the kernel has it (the groups are its credentials').
std::optional<config::User> calling_user()
{
    config::User user;
    user.uid = ::getuid();
    user.gid = ::getgid();
    const auto entry = passwd_by_uid(user.uid, UserDbAccess::nss);
    if (!entry)
        return std::nullopt;
    user.name = entry->name;
    const int count = ::getgroups(0, nullptr);
    if (count < 0)
        return std::nullopt;
    user.groups.resize(static_cast<std::size_t>(count));
    if (count > 0 && ::getgroups(count, user.groups.data()) != count)
        return std::nullopt;
    return user;
}

} // namespace

std::optional<std::string> refusal_at_submit(const std::string& name, const std::string& config_path)
{
    config::Config config;
    try {
        config = config::load_config(config_path);
    } catch (const config::ConfigError&) {
        return std::nullopt; // no configuration here to ask: the node decides alone
    }
    const auto user = calling_user();
    if (!user)
        return std::nullopt;
    config::Request request;
    request.option = name;
    request.option_name = "--chos";
    const config::GroupResolver groups = group_resolver(UserDbAccess::nss);
    const auto choice = config::choose(config, *user, request, groups);
    if (choice)
        return std::nullopt;
    std::string allowed;
    for (const auto& env : config.environments)
        if (!env.hidden && config::is_allowed(env, *user, groups))
            allowed += (allowed.empty() ? "" : ", ") + env.name;
    return choice.error().message() + "; you may use: " + (allowed.empty() ? "none here" : allowed);
}

} // namespace chos::enter
