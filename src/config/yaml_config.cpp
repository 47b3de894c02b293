// chos.yaml parsing and validation (chos.yaml(5)). Every problem found becomes a
// Diagnostic; the whole file is checked before anything is thrown, so `chos-setup
// check` can say everything wrong at once. This file holds the top level -- one
// branch per key, the list tests/unit/man_pages.sh compares with chos.yaml(5) -- and
// the sections are read in yaml_sections.cpp.
#include "config/yaml_config.hpp"

#include "config/names.hpp"
#include "config/yaml_prescan.hpp"
#include "config/yaml_reader.hpp"
#include "config/yaml_sections.hpp"

#include <yaml-cpp/yaml.h>

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

class Parser : public YamlReader {
public:
    using YamlReader::YamlReader;

    Config parse(std::string_view text)
    {
        Config config;
        config.source = file();
        config.os_dirs = default_os_dirs();
        prescan_yaml(text, *this);

        YAML::Node root;
        try {
            root = YAML::Load(std::string(text));
        } catch (const YAML::Exception& e) {
            syntax_error(text, e);
            give_up();
        }
        if (!root.IsDefined() || root.IsNull()) {
            error_at(0, 0, "the file is empty: it must define at least 'environments'");
            give_up();
        }
        if (!root.IsMap()) {
            error(root, "the top level must be a map of keys (see chos.yaml(5))");
            give_up();
        }

        YAML::Node default_node;
        bool saw_environments = false;
        std::vector<YAML::Node> bind_nodes;
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
                    if (!is_valid_user_file(*s))
                        error(v, "'user_file' must be a plain file name in the user's home directory, e.g. .chos");
                    else
                        config.user_file = *s;
                }
            } else if (key == "fail_to_default") {
                if (auto b = boolean(v, key))
                    config.fail_to_default = *b;
            } else if (key == "backend") {
                if (auto s = one_of(v, key, {"auto", "fuse", "kmod", "namespace"}))
                    config.backend = *s == "fuse"        ? Backend::fuse
                                     : *s == "kmod"      ? Backend::kmod
                                     : *s == "namespace" ? Backend::namespace_
                                                         : Backend::automatic;
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
                parse_registry(*this, v, config.registry);
            } else if (key == "environments") {
                saw_environments = true;
                parse_environments(*this, v, config);
            } else if (key == "os_dirs") {
                parse_os_dirs(*this, v, config);
            } else if (key == "image_dirs") {
                parse_image_dirs(*this, v, config);
            } else if (key == "bind") {
                parse_binds(*this, v, config, bind_nodes);
            } else if (key == "shared_files") {
                parse_shared_files(*this, v, config);
            } else if (key == "host_commands") {
                parse_host_commands(*this, v, config);
            } else if (key == "environment") {
                parse_rules(*this, v, "environment", config.rules);
            } else {
                unknown_key(k, key, "");
            }
        });

        if (!saw_environments)
            error(root, "missing key 'environments': at least one environment must be defined");
        if (default_node && default_node.IsScalar() && !config.find(config.default_environment))
            error(default_node, "'default' names environment '" + quote_for_message(config.default_environment) +
                                    "', which is not defined under 'environments'");
        check_tree_layout(*this, config, bind_nodes);

        if (failed())
            give_up();
        return config;
    }
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
