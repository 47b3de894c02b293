// Parsers of /proc/<pid>/cgroup text (cgroups(7)): "ID:CONTROLLERS:PATH\n" per
// hierarchy, "0::PATH" for cgroup2.
//
// The text decides which tree a process sees, so every doubt answers nullopt and
// callers fail closed (docs/properties.md P8; docs/threat-model.md, class K: link identity
// and forged registrations):
// - only newline-terminated lines count: a truncated read must never turn
//   "/bullseye" into "/bull", another environment;
// - the controller field must equal "name=<hierarchy>" exactly, so "name=chosX"
//   or "cpu,name=chos" never stand for "name=chos";
// - a second matching line is ambiguous, not "the first one wins";
// - the path may contain ':' (only the first two colons separate fields).
// Pure functions without allocation until the result: fuzzed by
// tests/fuzz/fuzz_proc_cgroup.cpp.
#include "registry/registry.hpp"

#include "config/names.hpp"

namespace chos::registry {

namespace {

struct Line {
    std::string_view id;
    std::string_view controllers;
    std::string_view path;
};

bool all_digits(std::string_view s)
{
    if (s.empty())
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return true;
}

// One complete line (without its '\n') split at its first two colons.
std::optional<Line> split_line(std::string_view line)
{
    const auto first = line.find(':');
    if (first == std::string_view::npos)
        return std::nullopt;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos)
        return std::nullopt;
    Line l{line.substr(0, first), line.substr(first + 1, second - first - 1), line.substr(second + 1)};
    if (!all_digits(l.id))
        return std::nullopt;
    return l;
}

// Calls f(line) for each newline-terminated line; an unterminated tail is not a
// line (see the file comment). f returns false to stop early.
template <typename F>
void for_each_complete_line(std::string_view text, F f)
{
    std::size_t pos = 0;
    for (;;) {
        const auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            return;
        if (!f(text.substr(pos, nl - pos)))
            return;
        pos = nl + 1;
    }
}

// The path of the one hierarchy line that `ours` accepts; nullopt when there is none
// or more than one (ambiguous: never guess). Lines that are not hierarchy lines
// cannot be ours.
template <typename Ours>
std::optional<std::string> unique_path(std::string_view proc_cgroup, Ours ours)
{
    std::optional<std::string_view> found;
    bool ambiguous = false;
    for_each_complete_line(proc_cgroup, [&](std::string_view text) {
        auto line = split_line(text);
        if (!line || !ours(*line))
            return true;
        if (found) {
            ambiguous = true;
            return false;
        }
        found = line->path;
        return true;
    });
    if (ambiguous || !found)
        return std::nullopt;
    return std::string(*found);
}

} // namespace

bool is_clean_cgroup_path(std::string_view path)
{
    if (path.empty() || path.front() != '/')
        return false;
    if (path == "/")
        return true;
    std::size_t pos = 1;
    for (;;) {
        const auto slash = path.find('/', pos);
        const auto part = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        if (part.empty() || part == "." || part == "..")
            return false;
        if (slash == std::string_view::npos)
            return true;
        pos = slash + 1;
    }
}

std::optional<std::string> cgroup1_path(std::string_view proc_cgroup, std::string_view hierarchy)
{
    constexpr std::string_view name_prefix = "name=";
    if (hierarchy.empty())
        return std::nullopt;
    return unique_path(proc_cgroup, [&](const Line& line) {
        const auto c = line.controllers;
        return c.size() == name_prefix.size() + hierarchy.size() && c.starts_with(name_prefix) &&
               c.substr(name_prefix.size()) == hierarchy;
    });
}

std::optional<std::string> cgroup2_path(std::string_view proc_cgroup)
{
    return unique_path(proc_cgroup, [](const Line& line) { return line.id == "0" && line.controllers.empty(); });
}

std::optional<Membership> membership_from_cgroup1(std::string_view path)
{
    if (path == "/")
        return Membership{};
    // Exactly one level: chos-setup creates <mount>/<env> and nothing below it, so a
    // nested path was made by someone else and is not a registration.
    if (path.size() < 2 || path.front() != '/')
        return std::nullopt;
    const auto name = path.substr(1);
    if (!config::is_valid_environment_name(name))
        return std::nullopt; // also refuses "/..", "/x/y" ('/' is not a name character)
    return Membership{true, std::string(name)};
}

std::optional<Membership> membership_from_cgroup2(std::string_view path)
{
    if (!is_clean_cgroup_path(path))
        return std::nullopt;
    const auto leaf = path.substr(path.rfind('/') + 1);
    if (!leaf.starts_with(cgroup2_leaf_prefix))
        return Membership{}; // an ordinary cgroup (systemd scope, Slurm job): unregistered
    // A "chos-" leaf that does not carry a valid name is nobody's registration; it
    // is refused rather than read as "unregistered" so a malformed leaf is noticed.
    const auto name = leaf.substr(cgroup2_leaf_prefix.size());
    if (!config::is_valid_environment_name(name))
        return std::nullopt;
    return Membership{true, std::string(name)};
}

} // namespace chos::registry
