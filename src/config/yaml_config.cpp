// chos.yaml parsing and validation. Every problem found becomes a Diagnostic; the
// whole file is checked before anything is thrown, so `chos-setup check` can say
// everything wrong at once.
#include "config/yaml_config.hpp"

#include "config/names.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace chos::config {

std::string Diagnostic::str() const
{
    if (line <= 0)
        return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

std::string join_messages(const std::vector<Diagnostic>& diagnostics)
{
    std::string text;
    for (const auto& d : diagnostics) {
        if (!text.empty())
            text += '\n';
        text += d.str();
    }
    return text;
}

} // namespace

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_messages(diagnostics)), diagnostics_(std::move(diagnostics))
{
}

namespace {

constexpr std::size_t max_events = 100000;
constexpr int max_depth = 32;

// A first pass over the event stream, before any tree is built: aliases and anchors
// are refused (an alias bomb is cheap for yaml-cpp's shared nodes but not for whoever
// walks them), and the document's size and depth are bounded.
class Prescan : public YAML::EventHandler {
public:
    explicit Prescan(std::vector<Diagnostic>& out, const std::string& file) : out_(out), file_(file) {}

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { node(mark, anchor); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override
    {
        count();
        report(mark, "aliases (*name) are not allowed in chos.yaml");
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override
    {
        node(mark, anchor);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor);
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        open(mark, anchor);
    }
    void OnMapEnd() override { --depth_; }

    [[nodiscard]] bool ok() const { return !failed_; }

private:
    void count()
    {
        if (++events_ > max_events && !too_big_) {
            too_big_ = true;
            failed_ = true;
            out_.push_back({file_, 0, 0, "more than " + std::to_string(max_events) + " YAML nodes"});
        }
    }
    void node(const YAML::Mark& mark, YAML::anchor_t anchor)
    {
        count();
        if (anchor != YAML::NullAnchor)
            report(mark, "anchors (&name) are not allowed in chos.yaml");
    }
    void open(const YAML::Mark& mark, YAML::anchor_t anchor)
    {
        node(mark, anchor);
        if (++depth_ > max_depth && !too_deep_) {
            too_deep_ = true;
            report(mark, "nested deeper than " + std::to_string(max_depth) + " levels");
        }
    }
    void report(const YAML::Mark& mark, std::string message)
    {
        failed_ = true;
        if (reported_ < 20)
            out_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
        ++reported_;
    }

    std::vector<Diagnostic>& out_;
    const std::string& file_;
    std::size_t events_ = 0;
    int depth_ = 0;
    int reported_ = 0;
    bool failed_ = false, too_big_ = false, too_deep_ = false;
};

bool is_env_var_name(std::string_view s)
{
    if (s.empty() || s.size() > 255)
        return false;
    auto ok_first = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!ok_first(s.front()))
        return false;
    return std::all_of(s.begin(), s.end(), [&](char c) { return ok_first(c) || (c >= '0' && c <= '9'); });
}

bool is_account_name(std::string_view s)
{
    // POSIX portable user/group names, plus '.' and a trailing '$' (Samba machine
    // accounts); enough to refuse paths, spaces and control characters.
    if (s.empty() || s.size() > 256 || s.front() == '-')
        return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.' || (c == '$' && i + 1 == s.size());
        if (!ok)
            return false;
    }
    return true;
}

class Parser {
public:
    explicit Parser(std::string file) : file_(std::move(file)) {}

    Config parse(std::string_view text)
    {
        Config config;
        config.source = file_;
        config.os_dirs = default_os_dirs();

        {
            std::string copy(text);
            std::istringstream in(copy);
            Prescan prescan(diags_, file_);
            try {
                YAML::Parser parser(in);
                int documents = 0;
                while (parser.HandleNextDocument(prescan)) {
                    if (++documents > 1) {
                        diags_.push_back({file_, 0, 0, "more than one YAML document"});
                        break;
                    }
                }
            } catch (const YAML::Exception& e) {
                diags_.push_back({file_, e.mark.line + 1, e.mark.column + 1, e.msg});
                throw ConfigError(std::move(diags_));
            }
            if (!prescan.ok() || !diags_.empty())
                throw ConfigError(std::move(diags_));
        }

        YAML::Node root;
        try {
            root = YAML::Load(std::string(text));
        } catch (const YAML::Exception& e) {
            diags_.push_back({file_, e.mark.line + 1, e.mark.column + 1, e.msg});
            throw ConfigError(std::move(diags_));
        }
        if (!root.IsDefined() || root.IsNull()) {
            diags_.push_back({file_, 0, 0, "the file is empty: it must define at least 'environments'"});
            throw ConfigError(std::move(diags_));
        }
        if (!root.IsMap()) {
            error(root, "the top level must be a map of keys (see chos.yaml(5))");
            throw ConfigError(std::move(diags_));
        }

        YAML::Node default_node;
        bool saw_environments = false;
        for_each_key(root, "", [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
            if (key == "default") {
                // "default: ~" states explicitly that there is no default.
                if (!v.IsNull()) {
                    default_node = v;
                    if (auto s = string(v, key))
                        config.default_environment = *s;
                }
            } else if (key == "user_file") {
                if (auto s = string(v, key)) {
                    if (s->empty() || s->find('/') != std::string::npos || *s == "." || *s == ".." ||
                        s->size() > 255 || !is_account_name(*s))
                        error(v, "'user_file' must be a plain file name in the user's home directory, e.g. .chos");
                    else
                        config.user_file = *s;
                }
            } else if (key == "fail_to_default") {
                if (auto b = boolean(v, key))
                    config.fail_to_default = *b;
            } else if (key == "backend") {
                if (auto s = one_of(v, key, {"auto", "fuse", "kmod"}))
                    config.backend = *s == "fuse" ? Backend::fuse : *s == "kmod" ? Backend::kmod : Backend::automatic;
            } else if (key == "tree") {
                if (auto p = path(v, key, false))
                    config.tree = *p;
            } else if (key == "run_dir") {
                if (auto p = path(v, key, false))
                    config.run_dir = *p;
            } else if (key == "local") {
                if (auto b = boolean(v, key))
                    config.local = *b;
            } else if (key == "local_suid") {
                if (auto b = boolean(v, key))
                    config.local_suid = *b;
            } else if (key == "registry") {
                parse_registry(v, config.registry);
            } else if (key == "environments") {
                saw_environments = true;
                parse_environments(v, config);
            } else if (key == "os_dirs") {
                parse_os_dirs(v, config);
            } else if (key == "bind") {
                parse_binds(v, config);
            } else if (key == "shared_files") {
                parse_shared_files(v, config);
            } else if (key == "environment") {
                parse_rules(v, "environment", config.rules);
            } else {
                unknown_key(k, key, "");
            }
        });

        if (!saw_environments)
            error(root, "missing key 'environments': at least one environment must be defined");
        if (default_node && default_node.IsScalar() && !config.find(config.default_environment))
            error(default_node, "'default' names environment '" + quote_for_message(config.default_environment) +
                                    "', which is not defined under 'environments'");
        check_tree_layout(config);

        if (!diags_.empty())
            throw ConfigError(std::move(diags_));
        return config;
    }

private:
    // ---- diagnostics -----------------------------------------------------
    void error(const YAML::Node& node, std::string message)
    {
        const auto mark = node.Mark();
        if (mark.is_null())
            diags_.push_back({file_, 0, 0, std::move(message)});
        else
            diags_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
    }

    void unknown_key(const YAML::Node& k, const std::string& key, const std::string& where)
    {
        error(k, "unknown key '" + quote_for_message(key) + "'" + (where.empty() ? "" : " in " + where) +
                     " (see chos.yaml(5))");
    }

    // Iterate a map, refusing non-scalar and duplicate keys. `where` names the map.
    template <typename F>
    void for_each_key(const YAML::Node& map, const std::string& where, F&& f)
    {
        std::map<std::string, int> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            // Copies: yaml-cpp's iterator hands out a temporary proxy, so a reference
            // to it->first dangles (ASan: stack-use-after-scope).
            const YAML::Node k = it->first;
            const YAML::Node v = it->second;
            if (!k.IsScalar()) {
                error(k, "keys must be plain strings" + (where.empty() ? std::string() : " in " + where));
                continue;
            }
            const std::string key = k.Scalar();
            auto [pos, inserted] = seen.emplace(key, k.Mark().line + 1);
            if (!inserted) {
                error(k, "duplicate key '" + quote_for_message(key) + "'" + (where.empty() ? "" : " in " + where) +
                             " (first at line " + std::to_string(pos->second) + ")");
                continue;
            }
            f(key, k, v);
        }
    }

    // ---- typed scalars ---------------------------------------------------
    std::optional<std::string> string(const YAML::Node& v, const std::string& key)
    {
        if (!v.IsScalar()) {
            error(v, "'" + key + "' must be a string");
            return std::nullopt;
        }
        return v.Scalar();
    }

    std::optional<bool> boolean(const YAML::Node& v, const std::string& key)
    {
        if (v.IsScalar()) {
            const std::string& s = v.Scalar();
            if (s == "true" || s == "yes" || s == "on")
                return true;
            if (s == "false" || s == "no" || s == "off")
                return false;
        }
        error(v, "'" + key + "' must be true or false");
        return std::nullopt;
    }

    std::optional<std::string> one_of(const YAML::Node& v, const std::string& key, std::initializer_list<const char*> choices)
    {
        auto s = string(v, key);
        if (!s)
            return std::nullopt;
        std::string list;
        for (const char* c : choices) {
            if (*s == c)
                return s;
            list += list.empty() ? "" : ", ";
            list += c;
        }
        error(v, "'" + key + "' must be one of " + list + ", not '" + quote_for_message(*s) + "'");
        return std::nullopt;
    }

    std::optional<std::string> path(const YAML::Node& v, const std::string& key, bool root_ok)
    {
        auto s = string(v, key);
        if (!s)
            return std::nullopt;
        if (auto problem = absolute_path_problem(*s)) {
            error(v, "'" + key + "' path '" + quote_for_message(*s) + "' " + *problem +
                         " (paths must be absolute and normalized)");
            return std::nullopt;
        }
        if (!root_ok && *s == "/") {
            error(v, "'" + key + "' cannot be '/'");
            return std::nullopt;
        }
        return s;
    }

    std::optional<std::vector<std::pair<std::string, YAML::Node>>> string_list(const YAML::Node& v, const std::string& key)
    {
        if (!v.IsSequence()) {
            error(v, "'" + key + "' must be a list");
            return std::nullopt;
        }
        std::vector<std::pair<std::string, YAML::Node>> out;
        for (const auto& item : v) {
            if (!item.IsScalar()) {
                error(item, "items of '" + key + "' must be strings");
                continue;
            }
            out.emplace_back(item.Scalar(), item);
        }
        return out;
    }

    // ---- sections --------------------------------------------------------
    void parse_registry(const YAML::Node& v, RegistryConfig& reg)
    {
        if (!v.IsMap()) {
            error(v, "'registry' must be a map with keys type, name, mount");
            return;
        }
        for_each_key(v, "'registry'", [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
            if (key == "type") {
                if (auto s = one_of(val, key, {"auto", "cgroup1", "cgroup2"}))
                    reg.type = *s == "cgroup1" ? RegistryType::cgroup1
                               : *s == "cgroup2" ? RegistryType::cgroup2
                                                 : RegistryType::automatic;
            } else if (key == "name") {
                if (auto s = string(val, key)) {
                    // Goes into a mount option string "none,name=<name>": no ',' or '='.
                    bool ok = !s->empty() && s->size() <= 32 &&
                              std::all_of(s->begin(), s->end(), [](char c) {
                                  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                         c == '_' || c == '-';
                              });
                    if (ok)
                        reg.name = *s;
                    else
                        error(val, "'name' must be 1-32 characters of A-Z a-z 0-9 _ -");
                }
            } else if (key == "mount") {
                if (auto p = path(val, key, false))
                    reg.mount = *p;
            } else {
                unknown_key(k, key, "'registry'");
            }
        });
    }

    void parse_environments(const YAML::Node& v, Config& config)
    {
        if (!v.IsMap()) {
            error(v, "'environments' must be a map of environment names to settings");
            return;
        }
        if (v.size() == 0) {
            error(v, "'environments' is empty: at least one environment must be defined");
            return;
        }
        for_each_key(v, "'environments'", [&](const std::string& name, const YAML::Node& k, const YAML::Node& val) {
            if (auto problem = environment_name_problem(name)) {
                error(k, "environment name '" + quote_for_message(name) + "' " + *problem +
                             " (names are 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; see chos.yaml(5))");
                return;
            }
            Environment env;
            env.name = name;
            env.line = k.Mark().line + 1;
            if (!val.IsMap()) {
                error(val, "environment '" + name + "' must be a map with at least 'path'");
                return;
            }
            bool has_path = false;
            for_each_key(val, "environment '" + name + "'", [&](const std::string& key, const YAML::Node& kk, const YAML::Node& vv) {
                if (key == "path") {
                    has_path = true;
                    if (auto p = path(vv, key, true))
                        env.path = *p;
                } else if (key == "description") {
                    if (auto s = string(vv, key))
                        env.description = *s;
                } else if (key == "users" || key == "groups") {
                    if (auto list = string_list(vv, key)) {
                        for (auto& [s, node] : *list) {
                            if (!is_account_name(s))
                                error(node, "'" + quote_for_message(s) + "' is not a valid " +
                                                (key == "users" ? "user" : "group") + " name");
                            else
                                (key == "users" ? env.users : env.groups).push_back(s);
                        }
                    }
                } else if (key == "personality") {
                    if (auto s = one_of(vv, key, {"linux", "linux32"}))
                        env.personality = *s == "linux32" ? Personality::linux32 : Personality::none;
                } else if (key == "environment") {
                    parse_rules(vv, "environment of '" + name + "'", env.rules);
                } else {
                    unknown_key(kk, key, "environment '" + name + "'");
                }
            });
            if (!has_path) {
                error(k, "environment '" + name + "' has no 'path'");
                return;
            }
            if (!env.path.empty())
                config.environments.push_back(std::move(env));
        });
    }

    void parse_os_dirs(const YAML::Node& v, Config& config)
    {
        auto list = string_list(v, "os_dirs");
        if (!list)
            return;
        config.os_dirs.clear();
        std::set<std::string> seen;
        for (auto& [s, node] : *list) {
            if (!is_valid_environment_name(s) || s == "chos" || s == "local") {
                error(node, "os_dirs entry '" + quote_for_message(s) +
                                "' must be a single top-level directory name (not chos, local, or a path)");
                continue;
            }
            if (!seen.insert(s).second) {
                error(node, "duplicate os_dirs entry '" + s + "'");
                continue;
            }
            config.os_dirs.push_back(s);
        }
    }

    void parse_binds(const YAML::Node& v, Config& config)
    {
        if (!v.IsSequence()) {
            error(v, "'bind' must be a list of paths or {source, target} maps");
            return;
        }
        for (const auto& item : v) {
            BindMount bind;
            YAML::Node where = item;
            bool explicit_dev = false;
            if (item.IsScalar()) {
                auto p = path(item, "bind", false);
                if (!p)
                    continue;
                bind.source = bind.target = *p;
            } else if (item.IsMap()) {
                bool ok = true;
                for_each_key(item, "a 'bind' entry", [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
                    if (key == "source") {
                        auto p = path(val, key, false);
                        ok = ok && p;
                        if (p)
                            bind.source = *p;
                    } else if (key == "target") {
                        auto p = path(val, key, false);
                        ok = ok && p;
                        if (p)
                            bind.target = *p;
                    } else if (key == "dev" || key == "optional" || key == "recursive") {
                        auto b = boolean(val, key);
                        ok = ok && b;
                        if (b) {
                            (key == "dev" ? bind.dev : key == "optional" ? bind.optional : bind.recursive) = *b;
                            explicit_dev = explicit_dev || key == "dev";
                        }
                    } else {
                        unknown_key(k, key, "a 'bind' entry");
                        ok = false;
                    }
                });
                if (!ok)
                    continue;
                if (bind.source.empty()) {
                    error(item, "a 'bind' entry needs 'source'");
                    continue;
                }
                if (bind.target.empty())
                    bind.target = bind.source;
            } else {
                error(item, "items of 'bind' must be paths or {source, target} maps");
                continue;
            }
            // Device nodes are usable only where they are the point (DESIGN.md: every
            // other mount is nodev, SECURITY H).
            if (!explicit_dev)
                bind.dev = bind.target == "/dev" || bind.target.starts_with("/dev/");
            bind_nodes_.push_back(where);
            config.binds.push_back(std::move(bind));
        }
    }

    void parse_shared_files(const YAML::Node& v, Config& config)
    {
        auto list = string_list(v, "shared_files");
        if (!list)
            return;
        for (auto& [s, node] : *list) {
            if (auto problem = absolute_path_problem(s)) {
                error(node, "shared_files entry '" + quote_for_message(s) + "' " + *problem);
                continue;
            }
            if (s == "/") {
                error(node, "shared_files entry cannot be '/'");
                continue;
            }
            config.shared_files.push_back(s);
        }
    }

    void parse_rules(const YAML::Node& v, const std::string& where, EnvironmentRules& rules)
    {
        if (!v.IsMap()) {
            error(v, "'" + where + "' must be a map with keys keep, unset, set");
            return;
        }
        auto check_name = [&](const std::string& name, const YAML::Node& node) {
            if (!is_env_var_name(name)) {
                error(node, "'" + quote_for_message(name) + "' is not a valid environment variable name");
                return false;
            }
            if (name == "CHOS") {
                error(node, "CHOS is always set to the environment's name and cannot be changed here");
                return false;
            }
            return true;
        };
        for_each_key(v, where, [&](const std::string& key, const YAML::Node& k, const YAML::Node& val) {
            if (key == "keep" || key == "unset") {
                auto list = string_list(val, key);
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
                    error(val, "'set' must be a map of variable names to values");
                    return;
                }
                for_each_key(val, "'set'", [&](const std::string& name, const YAML::Node& nk, const YAML::Node& nv) {
                    if (!check_name(name, nk))
                        return;
                    if (!nv.IsScalar()) {
                        error(nv, "the value of '" + name + "' must be a string");
                        return;
                    }
                    rules.set[name] = nv.Scalar();
                });
            } else {
                unknown_key(k, key, where);
            }
        });
    }

    // Cross-field rules about what lands inside the tree.
    void check_tree_layout(const Config& config)
    {
        std::set<std::string> reserved(config.os_dirs.begin(), config.os_dirs.end());
        reserved.insert({"chos", "local", ".chos"});
        std::map<std::string, std::size_t> targets;
        for (std::size_t i = 0; i < config.binds.size(); ++i) {
            const auto& bind = config.binds[i];
            const auto& node = bind_nodes_[i];
            std::string top = bind.target.substr(1, bind.target.find('/', 1) - 1);
            if (reserved.count(top)) {
                error(node, "bind target '" + bind.target + "' lies under '/" + top +
                                "', which CHOS manages (os_dirs, chos, local, .chos)");
                continue;
            }
            if (!targets.emplace(bind.target, i).second)
                error(node, "bind target '" + bind.target + "' is used twice");
        }
        const auto inside = [](const std::string& path, const std::string& dir) {
            return path == dir || path.starts_with(dir + "/");
        };
        for (const auto& env : config.environments) {
            if (!env.is_host() && inside(env.path, config.tree))
                diags_.push_back({file_, env.line, 3, "environment '" + env.name + "' path '" + env.path +
                                                          "' lies inside the tree '" + config.tree + "'"});
        }
        if (inside(config.run_dir, config.tree) || inside(config.registry.mount, config.tree))
            diags_.push_back({file_, 0, 0, "run_dir and registry.mount must lie outside the tree '" + config.tree + "'"});
    }

    std::string file_;
    std::vector<Diagnostic> diags_;
    std::vector<YAML::Node> bind_nodes_;
};

} // namespace

Config parse_config(std::string_view text, const std::string& file)
{
    if (text.size() > max_config_size)
        throw ConfigError({{file, 0, 0, "larger than " + std::to_string(max_config_size) + " bytes"}});
    if (text.find('\0') != std::string_view::npos)
        throw ConfigError({{file, 0, 0, "contains a NUL byte: not a text file"}});
    return Parser(file).parse(text);
}

Config load_config(const std::string& path, FileTrust trust)
{
    return parse_config(read_trusted_file(path, trust), path);
}

} // namespace chos::config
