// What every part of the chos.yaml parser shares (internal to src/config): the list of
// diagnostics, and readers of typed values that report what is wrong at the node's
// line and column instead of throwing, so the whole file is checked at once.
#pragma once

#include "config/yaml_config.hpp"

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chos::config {

class YamlReader {
public:
    explicit YamlReader(std::string file) : file_(std::move(file)) {}

    // ---- diagnostics
    void error(const YAML::Node& node, std::string message);
    void error_at(int line, int column, std::string message);
    // yaml-cpp's syntax error, in words an admin can act on: a tab in the indentation
    // is named at its own line; "end of map not found" becomes the indentation it
    // means; yaml-cpp's own text follows in brackets.
    void syntax_error(std::string_view text, const YAML::Exception& e);
    void unknown_key(const YAML::Node& key_node, const std::string& key, const std::string& where);
    [[nodiscard]] bool failed() const noexcept { return !diags_.empty(); }
    [[noreturn]] void give_up() { throw ConfigError(std::move(diags_)); }
    [[nodiscard]] std::vector<Diagnostic>& diagnostics() noexcept { return diags_; }
    [[nodiscard]] const std::string& file() const noexcept { return file_; }

    // Iterate a map, refusing non-scalar and duplicate keys; `where` names the map.
    // f(key, key_node, value_node).
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
                duplicate_key(k, key, where, pos->second);
                continue;
            }
            f(key, k, v);
        }
    }

    // ---- typed values (nullopt after reporting what is wrong)
    std::optional<std::string> string(const YAML::Node& v, const std::string& key);
    std::optional<bool> boolean(const YAML::Node& v, const std::string& key);
    std::optional<std::string> one_of(const YAML::Node& v, const std::string& key,
                                      std::initializer_list<const char*> choices);
    // An absolute, normalized path; "/" only when root_ok.
    std::optional<std::string> path(const YAML::Node& v, const std::string& key, bool root_ok);
    // A list of strings, each with its node (for messages about one item).
    std::optional<std::vector<std::pair<std::string, YAML::Node>>> string_list(const YAML::Node& v,
                                                                               const std::string& key);

private:
    void duplicate_key(const YAML::Node& k, const std::string& key, const std::string& where, int first_line);

    std::string file_;
    std::vector<Diagnostic> diags_;
};

} // namespace chos::config
