#include "config/names.hpp"

#include <cstdio>

namespace chos::config {

namespace {

bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

} // namespace

std::optional<std::string> environment_name_problem(std::string_view name)
{
    if (name.empty())
        return "is empty";
    if (name.size() > max_name_length)
        return "is longer than " + std::to_string(max_name_length) + " characters";
    for (char c : name) {
        if (c == '/')
            return "contains '/'";
        if (!(is_alnum(c) || c == '.' || c == '_' || c == '-'))
            return "contains a character other than A-Z a-z 0-9 . _ -";
    }
    // "." and ".." and "-o" and ".hidden" all start with a non-alphanumeric: a name
    // can never be read as a path component or an option.
    if (!is_alnum(name.front()))
        return "does not start with a letter or digit";
    return std::nullopt;
}

bool is_valid_environment_name(std::string_view name)
{
    return !environment_name_problem(name).has_value();
}

std::optional<std::string> command_name_problem(std::string_view name)
{
    if (name.empty())
        return "is empty";
    if (name.size() > max_name_length)
        return "is longer than " + std::to_string(max_name_length) + " characters";
    const auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front()) && name.front() != '_')
        return "must start with a letter, a digit or '_'";
    for (char c : name)
        if (!alnum(c) && c != '.' && c != '_' && c != '+' && c != '-')
            return "may contain only letters, digits and . _ + -";
    if (name == "chos" || name == "chos-run")
        return "is a launcher's own name";
    return std::nullopt;
}

std::optional<std::string> absolute_path_problem(std::string_view path)
{
    if (path.empty())
        return "is empty";
    if (path.size() > max_path_length)
        return "is longer than " + std::to_string(max_path_length) + " characters";
    if (path.front() != '/')
        return "is not absolute";
    for (char c : path)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "contains a control character";
    if (path == "/")
        return std::nullopt;
    if (path.back() == '/')
        return "ends with '/'";
    std::size_t pos = 1;
    while (pos <= path.size()) {
        std::size_t next = path.find('/', pos);
        if (next == std::string_view::npos)
            next = path.size();
        std::string_view part = path.substr(pos, next - pos);
        if (part.empty())
            return "contains '//'";
        if (part == ".")
            return "contains '.'";
        if (part == "..")
            return "contains '..'";
        pos = next + 1;
    }
    return std::nullopt;
}

bool is_valid_account_name(std::string_view s)
{
    if (s.empty() || s.size() > 256 || s.front() == '-')
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = is_alnum(c) || c == '_' || c == '-' || c == '.' || (c == '$' && i + 1 == s.size());
        if (!ok)
            return false;
    }
    return true;
}

bool is_valid_user_file(std::string_view name)
{
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string_view::npos && is_valid_account_name(name);
}

std::string quote_for_message(std::string_view text)
{
    constexpr std::size_t limit = 64;
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        // '%' is escaped too: the original chos used $CHOS as a printf format.
        if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\' || c == '%') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > limit)
        out += "...";
    return out;
}

} // namespace chos::config
