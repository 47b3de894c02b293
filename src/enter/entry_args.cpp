// pam_chos's and spank_chos's arguments (see entry_args.hpp).
#include "enter/entry_args.hpp"

#include "config/names.hpp"

namespace chos::enter {

namespace {

std::optional<bool> parse_bool(std::string_view value)
{
    if (value == "yes" || value == "true" || value == "1")
        return true;
    if (value == "no" || value == "false" || value == "0")
        return false;
    return std::nullopt;
}

struct Spelling {
    const char* noun;     // "module" or "plugin"
    const char* man_page; // where the arguments are documented
};

Spelling spelling(EntryPoint entry)
{
    return entry == EntryPoint::pam ? Spelling{"module", "pam_chos(8)"} : Spelling{"plugin", "spank_chos(8)"};
}

} // namespace

Result<EntryArguments> parse_entry_arguments(EntryPoint entry, const std::vector<std::string_view>& args)
{
    const Spelling says = spelling(entry);
    EntryArguments parsed;
    for (const std::string_view arg : args) {
        const auto eq = arg.find('=');
        const bool has_value = eq != std::string_view::npos;
        const std::string_view key = arg.substr(0, eq);
        const std::string_view value = has_value ? arg.substr(eq + 1) : std::string_view{};
        const std::string quoted = "'" + config::quote_for_message(arg) + "'";
        const auto wrong = [&](const char* expected) {
            return error(std::string(says.noun) + " argument " + quoted + ": " + expected, "", "");
        };
        if (key == "debug") {
            if (has_value)
                return wrong("takes no value");
            parsed.debug = true;
        } else if (key == "fail_to_default" || (key == "root" && entry == EntryPoint::pam) ||
                   (key == "submit_check" && entry == EntryPoint::spank)) {
            const auto b = has_value ? parse_bool(value) : std::nullopt;
            if (!b)
                return wrong("expected yes or no");
            (key == "root" ? parsed.root : key == "submit_check" ? parsed.submit_check : parsed.fail_to_default.emplace()) = *b;
        } else if (key == "user_file") {
            // Joined to the home directory and read with the user's rights: the
            // configuration's own rule for `user_file:`, or empty for "none".
            if (!has_value || (!value.empty() && !config::is_valid_user_file(value)))
                return wrong("expected a file name without '/' in the home directory (empty: read none)");
            parsed.user_file = std::string(value);
        } else {
            return error("unknown " + std::string(says.noun) + " argument " + quoted + " (see " + says.man_page + ")",
                         "", "");
        }
    }
    return parsed;
}

} // namespace chos::enter
