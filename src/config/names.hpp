// The rules for names and paths that appear in chos.yaml and on command lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chos::config {

inline constexpr std::size_t max_name_length = 64;
inline constexpr std::size_t max_path_length = 4095;

// An environment name: 1..64 of [A-Za-z0-9._-], first character alphanumeric.
// So "", ".", "..", "a/b", "-o", ".hidden" and non-ASCII look-alikes are all
// refused (schroot CVE-2022-2787: a name must never become a path).
[[nodiscard]] bool is_valid_environment_name(std::string_view name);

// Why a name is invalid, as a short phrase ("is empty", "contains '/'", ...);
// nullopt when it is valid.
[[nodiscard]] std::optional<std::string> environment_name_problem(std::string_view name);

// Why a path is not absolute and normalized ("is not absolute", "contains '..'",
// ...); nullopt when it is acceptable. "/" is accepted.
[[nodiscard]] std::optional<std::string> absolute_path_problem(std::string_view path);

// A user or group name of the allow-list: POSIX portable names plus '.' and a trailing
// '$' (Samba machine accounts); never a path, a space or a control character.
[[nodiscard]] bool is_valid_account_name(std::string_view name);

// The per-user choice file (`user_file:` in chos.yaml, `user_file=` of pam_chos and
// spank_chos): a plain file name in the user's home directory, never a path -- it is
// joined to the home directory and read with the user's rights.
[[nodiscard]] bool is_valid_user_file(std::string_view name);

// A host command's name (host_commands in chos.yaml): 1..64 of [A-Za-z0-9._+-], first
// character alphanumeric or '_', never "chos" or "chos-run" (the launchers' own names).
[[nodiscard]] std::optional<std::string> command_name_problem(std::string_view name);

// Quote a user-supplied string for a one-line message: printable ASCII kept,
// anything else (newline, '%', bytes >= 0x7f) escaped as \xHH, cut at 64 bytes.
[[nodiscard]] std::string quote_for_message(std::string_view text);

} // namespace chos::config
