#include "config/legacy.hpp"

#include "config/config.hpp"
#include "config/names.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace chos::config {

namespace {

std::string_view trim(std::string_view s)
{
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && space(s.back()))
        s.remove_suffix(1);
    return s;
}

template <typename F>
void for_each_line(std::string_view text, F&& f)
{
    int number = 0;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        f(++number, line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

std::string where(const std::string& file, int line)
{
    return file + ":" + std::to_string(line) + ": ";
}

// A double-quoted YAML scalar: safe for any byte string.
std::string yaml_quote(std::string_view s)
{
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

// The original accepted any alias, including literal paths ("/auto/redhat73"); our
// names are plain words, so derive one: drop leading '/', other characters become '_'.
std::string plain_name(std::string_view name)
{
    while (!name.empty() && name.front() == '/')
        name.remove_prefix(1);
    std::string out;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        out += ok ? c : '_';
    }
    while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front())))
        out.erase(0, 1);
    if (out.size() > max_name_length)
        out.resize(max_name_length);
    return out;
}

} // namespace

std::vector<LegacyShell> parse_legacy_shells(std::string_view text, const std::string& file,
                                             std::vector<std::string>& warnings)
{
    std::vector<LegacyShell> shells;
    std::set<std::string> names;
    std::string section;
    for_each_line(text, [&](int number, std::string_view raw) {
        std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#')
            return;
        if (line.front() == '%') {
            section = std::string(line);
            if (section != "%SHELLS")
                warnings.push_back(where(file, number) + "section " + section + " is ignored (only %SHELLS is imported)");
            return;
        }
        if (section != "%SHELLS") {
            if (section.empty())
                warnings.push_back(where(file, number) + "line outside any section ignored");
            return;
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            warnings.push_back(where(file, number) + "no ':' in '" + quote_for_message(line) + "': ignored");
            return;
        }
        LegacyShell shell{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))), number};
        if (shell.name.empty() || shell.path.empty()) {
            warnings.push_back(where(file, number) + "empty name or path: ignored");
            return;
        }
        if (!names.insert(shell.name).second) {
            warnings.push_back(where(file, number) + "'" + quote_for_message(shell.name) +
                               "' was already defined: ignored (the first entry wins)");
            return;
        }
        shells.push_back(std::move(shell));
    });
    return shells;
}

std::vector<std::string> parse_legacy_bindmount(std::string_view text, const std::string& file,
                                                std::vector<std::string>& warnings)
{
    std::vector<std::string> dirs;
    for_each_line(text, [&](int number, std::string_view raw) {
        std::string_view line = trim(raw);
        if (line.starts_with("export "))
            line = trim(line.substr(7));
        if (line.empty() || line.front() == '#')
            return;
        std::size_t eq = line.find('=');
        if (eq == std::string_view::npos)
            return;
        std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (key == "BINDMOUNT") {
            dirs.clear();
            std::size_t pos = 0;
            while (pos < value.size()) {
                std::size_t end = value.find_first_of(" \t", pos);
                std::string_view word = value.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
                if (!word.empty())
                    dirs.emplace_back(word);
                if (end == std::string_view::npos)
                    break;
                pos = end + 1;
            }
        } else if (key == "MAKELINKS") {
            if (value == "yes")
                warnings.push_back(where(file, number) +
                                   "MAKELINKS=yes: chos-setup always makes the os_dirs links; review os_dirs");
        } else if (key == "PRIVATE_MOUNTS") {
            warnings.push_back(where(file, number) +
                               "PRIVATE_MOUNTS is not needed: binds are rslave, the tree itself is private");
        } else if (key != "CHOS") {
            warnings.push_back(where(file, number) + std::string(key) + " is ignored");
        }
    });
    return dirs;
}

LegacyImport import_legacy(std::optional<std::string_view> chos_text, const std::string& chos_file,
                           std::optional<std::string_view> sysconfig_text, const std::string& sysconfig_file)
{
    LegacyImport result;
    auto& warnings = result.warnings;

    std::vector<LegacyShell> shells;
    if (chos_text)
        shells = parse_legacy_shells(*chos_text, chos_file, warnings);

    // Environments, in file order, with valid names and normalized paths.
    struct Env {
        std::string name, path, original;
    };
    std::vector<Env> envs;
    std::set<std::string> used;
    std::string default_path;
    for (const auto& shell : shells) {
        std::string path = shell.path;
        while (path.size() > 1 && path.back() == '/')
            path.pop_back();
        if (auto problem = absolute_path_problem(path)) {
            warnings.push_back(where(chos_file, shell.line) + "path '" + quote_for_message(shell.path) + "' " +
                               *problem + ": ignored");
            continue;
        }
        // The tree itself cannot hold environments: a path there would be chrooted into
        // from inside itself.
        if (path == "/chos" || path.starts_with("/chos/")) {
            warnings.push_back(where(chos_file, shell.line) + "path '" + quote_for_message(path) +
                               "' lies inside the CHOS tree /chos: ignored");
            continue;
        }
        if (shell.name == "default") {
            default_path = path; // resolved against the other aliases below
            continue;
        }
        std::string name = shell.name;
        if (!is_valid_environment_name(name)) {
            name = plain_name(name);
            if (!is_valid_environment_name(name)) {
                warnings.push_back(where(chos_file, shell.line) + "name '" + quote_for_message(shell.name) +
                                   "' cannot be turned into a valid name: ignored");
                continue;
            }
            warnings.push_back(where(chos_file, shell.line) + "name '" + quote_for_message(shell.name) +
                               "' is imported as '" + name + "' (names cannot be paths)");
        }
        if (!used.insert(name).second) {
            warnings.push_back(where(chos_file, shell.line) + "name '" + name + "' is already used: ignored");
            continue;
        }
        envs.push_back({name, path, shell.name});
    }

    std::string default_name;
    if (!default_path.empty()) {
        auto same = std::find_if(envs.begin(), envs.end(), [&](const Env& e) { return e.path == default_path; });
        if (same != envs.end()) {
            default_name = same->name;
        } else if (used.insert("default").second) {
            envs.push_back({"default", default_path, "default"});
            default_name = "default";
        }
    }
    if (envs.empty())
        warnings.push_back(chos_file + ": no %SHELLS entries: the imported configuration defines no environment");

    std::vector<std::string> binds;
    if (sysconfig_text)
        for (auto& dir : parse_legacy_bindmount(*sysconfig_text, sysconfig_file, warnings)) {
            while (dir.size() > 1 && dir.back() == '/')
                dir.pop_back();
            if (absolute_path_problem(dir) || dir == "/") {
                warnings.push_back(sysconfig_file + ": BINDMOUNT entry '" + quote_for_message(dir) + "' ignored");
                continue;
            }
            if (std::find(binds.begin(), binds.end(), dir) == binds.end())
                binds.push_back(dir);
        }

    // A directory the site shared from the host (the original's default BINDMOUNT has
    // /var and /boot) cannot also be a per-environment directory.
    std::vector<std::string> os_dirs = default_os_dirs();
    for (const auto& dir : binds) {
        std::string top = dir.substr(1, dir.find('/', 1) - 1);
        auto it = std::find(os_dirs.begin(), os_dirs.end(), top);
        if (it != os_dirs.end()) {
            os_dirs.erase(it);
            warnings.push_back(sysconfig_file + ": '" + top +
                               "' is bind-mounted from the host, so it is removed from os_dirs");
        }
    }
    // A bind nested in another (/dev/pts under /dev) needs no entry of its own when
    // binds are recursive; keep it anyway, it is harmless and explicit.

    std::string& y = result.yaml;
    y += "# chos.yaml imported from the original CHOS configuration";
    if (chos_text)
        y += " (" + chos_file + (sysconfig_text ? ", " + sysconfig_file : std::string()) + ")";
    y += ".\n# Review it, then install it as /etc/chos.yaml; see chos.yaml(5).\n\n";
    if (!default_name.empty())
        y += "default: " + default_name + "\n";
    else
        y += "# default: NAME   # the original had no 'default' entry\n";
    y += "user_file: .chos\nfail_to_default: false   # the original pam_chos default\n\n";
    y += "environments:\n";
    if (envs.empty())
        y += "  {}\n";
    for (const auto& env : envs) {
        y += "  " + env.name + ":\n    path: " + yaml_quote(env.path) + "\n";
        if (env.original != env.name && env.original != "default")
            y += "    description: " + yaml_quote("imported from '" + env.original + "'") + "\n";
        else if (env.path == "/")
            y += "    description: \"the host\"\n";
    }
    y += "\nos_dirs: [";
    for (std::size_t i = 0; i < os_dirs.size(); ++i)
        y += (i ? ", " : "") + os_dirs[i];
    y += "]\n";
    if (!binds.empty()) {
        y += "\n# From BINDMOUNT; the original skipped a directory that did not exist.\nbind:\n";
        for (const auto& dir : binds)
            y += "  - { source: " + yaml_quote(dir) + ", optional: true }\n";
    }
    return result;
}

} // namespace chos::config
