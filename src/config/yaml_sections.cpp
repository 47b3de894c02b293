// The sections of chos.yaml below the top level (chos.yaml(5)): registry,
// environments, os_dirs, bind, shared_files, environment rules, and the checks that
// need several of them (what lands where in the tree). Internal to src/config; the top
// level is parsed in yaml_config.cpp.
#include "config/yaml_sections.hpp"

#include "common/layout.hpp"
#include "config/names.hpp"

#include <algorithm>
#include <set>

namespace chos::config {

namespace {

bool is_env_var_name(std::string_view s)
{
    if (s.empty() || s.size() > 255)
        return false;
    auto ok_first = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!ok_first(s.front()))
        return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return ok_first(c) || (c >= '0' && c <= '9'); });
}

} // namespace

void parse_registry(YamlReader& r, const YAML::Node& v, RegistryConfig& reg)
{
    if (!v.IsMap()) {
        r.error(v, "'registry' must be a map with keys type, name, mount");
        return;
    }
    r.for_each_key(v, "'registry'", [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
        if (key == "type") {
            if (auto s = r.one_of(val, key, {"auto", "cgroup1", "cgroup2"}))
                reg.type = *s == "cgroup1" ? RegistryType::cgroup1
                           : *s == "cgroup2" ? RegistryType::cgroup2
                                             : RegistryType::automatic;
        } else if (key == "name") {
            if (auto s = r.string(val, key)) {
                // Goes into a mount option string "none,name=<name>": no ',' or '='.
                bool ok = !s->empty() && s->size() <= 32 &&
                          std::all_of(s->begin(), s->end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                     c == '_' || c == '-';
                          });
                if (ok)
                    reg.name = *s;
                else
                    r.error(val, "'name' must be 1-32 characters of A-Z a-z 0-9 _ -");
            }
        } else if (key == "mount") {
            if (auto p = r.path(val, key, false))
                reg.mount = *p;
        } else {
            r.unknown_key(k, key, "'registry'");
        }
    });
}

void parse_environments(YamlReader& r, const YAML::Node& v, Config& config)
{
    if (!v.IsMap()) {
        r.error(v, "'environments' must be a map of environment names to settings");
        return;
    }
    if (v.size() == 0) {
        r.error(v, "'environments' is empty: at least one environment must be defined");
        return;
    }
    r.for_each_key(v, "'environments'", [&](const std::string& name, const YAML::Node& k, const YAML::Node& val) {
        if (auto problem = environment_name_problem(name)) {
            r.error(k, "environment name '" + quote_for_message(name) + "' " + *problem +
                         " (names are 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; see chos.yaml(5))");
            return;
        }
        Environment env;
        env.name = name;
        env.line = k.Mark().line + 1;
        if (!val.IsMap()) {
            r.error(val, "environment '" + name + "' must be a map with 'path' or 'image'");
            return;
        }
        bool has_path = false;
        bool has_image = false;
        r.for_each_key(val, "environment '" + name + "'", [&](const std::string& key, const YAML::Node& kk, const YAML::Node& vv) {
            if (key == "path") {
                has_path = true;
                env.path_line = vv.Mark().line + 1;
                env.path_column = vv.Mark().column + 1;
                if (auto p = r.path(vv, key, true))
                    env.path = *p;
            } else if (key == "image") {
                has_image = true;
                env.path_line = vv.Mark().line + 1;
                env.path_column = vv.Mark().column + 1;
                if (auto p = r.path(vv, key, false))
                    env.image = *p;
            } else if (key == "description") {
                if (auto s = r.string(vv, key))
                    env.description = *s;
            } else if (key == "users" || key == "groups") {
                if (auto list = r.string_list(vv, key)) {
                    for (auto& [s, node] : *list) {
                        if (!is_valid_account_name(s))
                            r.error(node, "'" + quote_for_message(s) + "' is not a valid " +
                                            (key == "users" ? "user" : "group") + " name");
                        else
                            (key == "users" ? env.users : env.groups).push_back(s);
                    }
                }
            } else if (key == "personality") {
                if (auto s = r.one_of(vv, key, {"linux", "linux32"}))
                    env.personality = *s == "linux32" ? Personality::linux32 : Personality::none;
            } else if (key == "environment") {
                parse_rules(r, vv, "environment of '" + name + "'", env.rules);
            } else if (key == "hidden") {
                if (auto b = r.boolean(vv, key))
                    env.hidden = *b;
            } else {
                r.unknown_key(kk, key, "environment '" + name + "'");
            }
        });
        if (has_path && has_image) {
            r.error(k, "environment '" + name + "' has both 'path' and 'image' (give one: a directory tree or an image file)");
            return;
        }
        if (!has_path && !has_image) {
            r.error(k, "environment '" + name + "' has neither 'path' nor 'image'");
            return;
        }
        if (!env.path.empty() || !env.image.empty())
            config.environments.push_back(std::move(env));
    });
}

void parse_os_dirs(YamlReader& r, const YAML::Node& v, Config& config)
{
    auto list = r.string_list(v, "os_dirs");
    if (!list)
        return;
    config.os_dirs.clear();
    std::set<std::string> seen;
    for (auto& [s, node] : *list) {
        if (!is_valid_environment_name(s) || s == layout::root_alias || s == layout::host_root) {
            r.error(node, "os_dirs entry '" + quote_for_message(s) +
                            "' must be a single top-level directory name (not chos, local, or a path)");
            continue;
        }
        if (!seen.insert(s).second) {
            r.error(node, "duplicate os_dirs entry '" + s + "'");
            continue;
        }
        config.os_dirs.push_back(s);
    }
}

void parse_image_dirs(YamlReader& r, const YAML::Node& v, Config& config)
{
    auto list = r.string_list(v, "image_dirs");
    if (!list)
        return;
    std::set<std::string> seen;
    for (auto& [s, node] : *list) {
        if (auto problem = absolute_path_problem(s)) {
            r.error(node, "image_dirs entry '" + quote_for_message(s) + "' " + *problem);
            continue;
        }
        if (s == "/") {
            r.error(node, "image_dirs entry cannot be '/' (name the directory that holds the images)");
            continue;
        }
        if (!seen.insert(s).second) {
            r.error(node, "duplicate image_dirs entry '" + s + "'");
            continue;
        }
        config.image_dirs.push_back(s);
    }
}

void parse_binds(YamlReader& r, const YAML::Node& v, Config& config, std::vector<YAML::Node>& bind_nodes)
{
    if (!v.IsSequence()) {
        r.error(v, "'bind' must be a list of paths or {source, target} maps");
        return;
    }
    for (const auto& item : v) {
        BindMount bind;
        YAML::Node where = item;
        bool explicit_dev = false;
        if (item.IsScalar()) {
            auto p = r.path(item, "bind", false);
            if (!p)
                continue;
            bind.source = bind.target = *p;
        } else if (item.IsMap()) {
            bool ok = true;
            r.for_each_key(item, "a 'bind' entry", [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
                if (key == "source") {
                    auto p = r.path(val, key, false);
                    ok = ok && p;
                    if (p)
                        bind.source = *p;
                } else if (key == "target") {
                    auto p = r.path(val, key, false);
                    ok = ok && p;
                    if (p)
                        bind.target = *p;
                } else if (key == "dev" || key == "optional" || key == "recursive") {
                    auto b = r.boolean(val, key);
                    ok = ok && b;
                    if (b) {
                        (key == "dev" ? bind.dev : key == "optional" ? bind.optional : bind.recursive) = *b;
                        explicit_dev = explicit_dev || key == "dev";
                    }
                } else {
                    r.unknown_key(k, key, "a 'bind' entry");
                    ok = false;
                }
            });
            if (!ok)
                continue;
            if (bind.source.empty()) {
                r.error(item, "a 'bind' entry needs 'source'");
                continue;
            }
            if (bind.target.empty())
                bind.target = bind.source;
        } else {
            r.error(item, "items of 'bind' must be paths or {source, target} maps");
            continue;
        }
        // Device nodes are usable only where they are the point: every other mount is
        // nodev (docs/threat-model.md, class H: setuid and devices in trees).
        if (!explicit_dev)
            bind.dev = bind.target == "/dev" || bind.target.starts_with("/dev/");
        bind_nodes.push_back(where);
        config.binds.push_back(std::move(bind));
    }
}

void parse_shared_files(YamlReader& r, const YAML::Node& v, Config& config)
{
    auto list = r.string_list(v, "shared_files");
    if (!list)
        return;
    for (auto& [s, node] : *list) {
        if (auto problem = absolute_path_problem(s)) {
            r.error(node, "shared_files entry '" + quote_for_message(s) + "' " + *problem);
            continue;
        }
        if (s == "/") {
            r.error(node, "shared_files entry cannot be '/'");
            continue;
        }
        config.shared_files.push_back(s);
    }
}

void parse_host_commands(YamlReader& r, const YAML::Node& v, Config& config)
{
    auto list = r.string_list(v, "host_commands");
    if (!list)
        return;
    std::set<std::string, std::less<>> names;
    for (auto& [s, node] : *list) {
        if (s.starts_with('/')) {
            if (auto problem = absolute_path_problem(s)) {
                r.error(node, "host_commands entry '" + quote_for_message(s) + "' " + *problem);
                continue;
            }
        } else if (s.find('/') != std::string::npos) {
            r.error(node, "host_commands entry '" + quote_for_message(s) +
                              "' is neither a command name nor an absolute path");
            continue;
        }
        const std::string name(host_command_name(s));
        if (auto problem = command_name_problem(name)) {
            r.error(node, "host_commands entry '" + quote_for_message(s) + "': the name '" +
                              quote_for_message(name) + "' " + *problem);
            continue;
        }
        if (!names.insert(name).second) {
            r.error(node, "host_commands entry '" + quote_for_message(s) + "': the name '" + name +
                              "' is listed twice");
            continue;
        }
        config.host_commands.push_back(s);
    }
}

void parse_rules(YamlReader& r, const YAML::Node& v, const std::string& where, EnvironmentRules& rules)
{
    if (!v.IsMap()) {
        r.error(v, "'" + where + "' must be a map with keys keep, unset, set");
        return;
    }
    auto check_name = [&](const std::string& name, const YAML::Node& node) {
        if (!is_env_var_name(name)) {
            r.error(node, "'" + quote_for_message(name) + "' is not a valid environment variable name");
            return false;
        }
        if (name == "CHOS") {
            r.error(node, "CHOS is always set to the environment's name and cannot be changed here");
            return false;
        }
        return true;
    };
    r.for_each_key(v, where, [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
        if (key == "keep" || key == "unset") {
            auto list = r.string_list(val, key);
            if (!list)
                return;
            std::vector<std::string> names;
            for (auto& [s, node] : *list)
                if (check_name(s, node))
                    names.push_back(s);
            if (key == "keep")
                rules.keep = std::move(names);
            else
                rules.unset = std::move(names);
        } else if (key == "set") {
            if (!val.IsMap()) {
                r.error(val, "'set' must be a map of variable names to values");
                return;
            }
            r.for_each_key(val, "'set'", [&](const std::string& name, const YAML::Node& nk, const YAML::Node& nv) {
                if (!check_name(name, nk))
                    return;
                if (!nv.IsScalar()) {
                    r.error(nv, "the value of '" + name + "' must be a string");
                    return;
                }
                rules.set[name] = nv.Scalar();
            });
        } else {
            r.unknown_key(k, key, where);
        }
    });
}

// Cross-field rules about what lands inside the tree.
void check_tree_layout(YamlReader& r, const Config& config, const std::vector<YAML::Node>& bind_nodes)
{
    std::set<std::string> reserved(config.os_dirs.begin(), config.os_dirs.end());
    reserved.insert({std::string(layout::root_alias), std::string(layout::host_root), std::string(layout::meta_dir)});
    std::map<std::string, std::size_t> targets;
    for (std::size_t i = 0; i < config.binds.size(); ++i) {
        const auto& bind = config.binds[i];
        const auto& node = bind_nodes[i];
        std::string top = bind.target.substr(1, bind.target.find('/', 1) - 1);
        if (reserved.count(top)) {
            r.error(node, "bind target '" + bind.target + "' lies under '/" + top +
                            "', which CHOS manages (os_dirs, chos, local, .chos)");
            continue;
        }
        if (!targets.emplace(bind.target, i).second)
            r.error(node, "bind target '" + bind.target + "' is used twice");
    }
    const auto inside = [](const std::string& path, const std::string& dir) {
        return path == dir || path.starts_with(dir + "/");
    };
    for (const auto& env : config.environments) {
        if (!env.is_host() && inside(env.path, config.tree))
            r.error_at(env.path_line, env.path_column, "environment '" + env.name + "' path '" + env.path +
                                                      "' lies inside the tree '" + config.tree + "'");
    }
    for (const auto& env : config.environments) {
        if (env.is_image() && inside(env.image, config.tree))
            r.error_at(env.path_line, env.path_column, "environment '" + env.name + "' image '" + env.image +
                                                      "' lies inside the tree '" + config.tree + "'");
    }
    if (inside(config.run_dir, config.tree) || inside(config.registry.mount, config.tree))
        r.error_at(0, 0, "run_dir and registry.mount must lie outside the tree '" + config.tree + "'");
}

} // namespace chos::config
