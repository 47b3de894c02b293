// The one place that decides which environment a process enters.
//
// A pure function: the launcher, pam_chos and spank_chos all call choose() with
// what they gathered, so precedence and the allow-list are written exactly once.
#pragma once

#include "config/config.hpp"

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::config {

struct User {
    uid_t uid = 0;
    gid_t gid = 0;                // primary group
    std::string name;
    std::vector<gid_t> groups;    // supplementary groups
};

// Where the chosen name came from, in precedence order.
enum class ChoiceSource { option, variable, user_file, config_default };

struct Request {
    std::optional<std::string> option;    // -o NAME / --chos=NAME
    std::optional<std::string> variable;  // $CHOS
    std::optional<std::string> user_file; // the whole text of ~/.chos (first line is used)
    bool fall_back_to_default = false;    // fail_to_default for login/batch
    std::string option_name = "-o";       // how messages name the option ("--chos" for Slurm)
};

struct Choice {
    const Environment* environment = nullptr;
    ChoiceSource source = ChoiceSource::config_default;
    // Set when fall_back_to_default replaced an invalid choice: what was refused.
    std::optional<std::string> fell_back_from;
};

enum class RefusalKind {
    invalid_name,   // not a valid environment name (see chos.yaml(5))
    unknown,        // valid name, not in the config
    not_allowed,    // in the config, not for this user
    nothing_chosen, // no -o, no $CHOS, no ~/.chos and no default
};

struct Refusal {
    RefusalKind kind;
    ChoiceSource source = ChoiceSource::config_default;
    std::string name; // as requested (may be hostile: quote before printing)
    std::string option_name = "-o"; // how the entry point spells the option

    // One line without the "chos: " prefix, e.g.
    // "environment 'x' is not allowed for user 'alice' (see 'chos --list')".
    [[nodiscard]] std::string message() const;
};

// Resolves a group name from the config to its gid (NSS in production).
using GroupResolver = std::function<std::optional<gid_t>(const std::string&)>;

// Is `user` allowed into `env`? root always is; an environment with no users and no
// groups is open to everyone.
[[nodiscard]] bool is_allowed(const Environment& env, const User& user, const GroupResolver& groups);

// The first line of a ~/.chos text, trimmed; nullopt when empty.
[[nodiscard]] std::optional<std::string> first_line(std::string_view text);

// Precedence: option > variable > first line of user_file > config default.
[[nodiscard]] std::expected<Choice, Refusal>
choose(const Config& config, const User& user, const Request& request, const GroupResolver& groups);

[[nodiscard]] std::string_view to_string(ChoiceSource source);

} // namespace chos::config
