#include "config/choice.hpp"

#include "config/names.hpp"

#include <algorithm>

namespace chos::config {

std::string_view to_string(ChoiceSource source)
{
    switch (source) {
    case ChoiceSource::option: return "-o";
    case ChoiceSource::variable: return "$CHOS";
    case ChoiceSource::user_file: return "~/.chos";
    case ChoiceSource::config_default: return "the configured default";
    }
    return "?";
}

std::string Refusal::message() const
{
    const std::string quoted = "'" + quote_for_message(name) + "'";
    const std::string from =
        " (from " + (source == ChoiceSource::option ? option_name : std::string(to_string(source))) + ")";
    switch (kind) {
    case RefusalKind::invalid_name:
        return "invalid environment name: " + quoted + from +
               ": names are letters, digits, '.', '_', '-' (see chos.yaml(5))";
    case RefusalKind::unknown:
        return "unknown environment: " + quoted + from + " (see 'chos --list')";
    case RefusalKind::not_allowed:
        return "environment not allowed: " + quoted + from + ": not open to this user (see 'chos --list')";
    case RefusalKind::nothing_chosen:
        return "no environment chosen and no default configured: use -o NAME, $CHOS or ~/.chos (see 'chos --list')";
    }
    return "refused";
}

bool is_allowed(const Environment& env, const User& user, const GroupResolver& groups)
{
    if (user.uid == 0 || !env.restricted())
        return true;
    if (std::find(env.users.begin(), env.users.end(), user.name) != env.users.end())
        return true;
    for (const auto& group : env.groups) {
        auto gid = groups ? groups(group) : std::nullopt;
        if (!gid)
            continue;
        if (*gid == user.gid || std::find(user.groups.begin(), user.groups.end(), *gid) != user.groups.end())
            return true;
    }
    return false;
}

std::optional<std::string> first_line(std::string_view text)
{
    text = text.substr(0, text.find('\n'));
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
    while (!text.empty() && space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && space(text.back()))
        text.remove_suffix(1);
    if (text.empty())
        return std::nullopt;
    return std::string(text);
}

namespace {

std::expected<Choice, Refusal> resolve(const Config& config, const User& user, const std::string& name,
                                       ChoiceSource source, const GroupResolver& groups)
{
    if (!is_valid_environment_name(name))
        return std::unexpected(Refusal{RefusalKind::invalid_name, source, name});
    const Environment* env = config.find(name);
    if (!env)
        return std::unexpected(Refusal{RefusalKind::unknown, source, name});
    if (!is_allowed(*env, user, groups))
        return std::unexpected(Refusal{RefusalKind::not_allowed, source, name});
    return Choice{env, source, std::nullopt};
}

} // namespace

std::expected<Choice, Refusal> choose(const Config& config, const User& user, const Request& request,
                                      const GroupResolver& groups)
{
    std::optional<std::string> name;
    ChoiceSource source = ChoiceSource::config_default;
    if (request.option) {
        name = request.option;
        source = ChoiceSource::option;
    } else if (request.variable && !request.variable->empty()) {
        name = request.variable;
        source = ChoiceSource::variable;
    } else if (request.user_file) {
        if ((name = first_line(*request.user_file)))
            source = ChoiceSource::user_file;
    }

    if (name) {
        auto choice = resolve(config, user, *name, source, groups);
        if (!choice)
            choice.error().option_name = request.option_name;
        // An explicit -o/--chos is never second-guessed; a stale $CHOS or ~/.chos may
        // fall back when the site says so (fail_to_default, for logins and jobs).
        if (choice || source == ChoiceSource::option || !request.fall_back_to_default)
            return choice;
        if (config.default_environment.empty())
            return choice;
        auto fallback = resolve(config, user, config.default_environment, ChoiceSource::config_default, groups);
        if (!fallback)
            return choice;
        fallback->fell_back_from = choice.error().message();
        return fallback;
    }

    if (config.default_environment.empty())
        return std::unexpected(Refusal{RefusalKind::nothing_chosen, ChoiceSource::config_default, ""});
    return resolve(config, user, config.default_environment, ChoiceSource::config_default, groups);
}

} // namespace chos::config
