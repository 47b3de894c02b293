// The parser's shared readers (see yaml_reader.hpp).
#include "config/yaml_reader.hpp"

#include "config/names.hpp"

namespace chos::config {

void YamlReader::error(const YAML::Node& node, std::string message)
{
    const auto mark = node.Mark();
    if (mark.is_null())
        diags_.push_back({file_, 0, 0, std::move(message)});
    else
        diags_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
}

void YamlReader::error_at(int line, int column, std::string message)
{
    diags_.push_back({file_, line, column, std::move(message)});
}

void YamlReader::unknown_key(const YAML::Node& k, const std::string& key, const std::string& where)
{
    error(k, "unknown key '" + quote_for_message(key) + "'" + (where.empty() ? "" : " in " + where) +
                 " (see chos.yaml(5))");
}

void YamlReader::duplicate_key(const YAML::Node& k, const std::string& key, const std::string& where, int first_line)
{
    error(k, "duplicate key '" + quote_for_message(key) + "'" + (where.empty() ? "" : " in " + where) +
                 " (first at line " + std::to_string(first_line) + ")");
}

std::optional<std::string> YamlReader::string(const YAML::Node& v, const std::string& key)
{
    if (!v.IsScalar()) {
        error(v, "'" + key + "' must be a string");
        return std::nullopt;
    }
    return v.Scalar();
}

std::optional<bool> YamlReader::boolean(const YAML::Node& v, const std::string& key)
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

std::optional<std::string> YamlReader::one_of(const YAML::Node& v, const std::string& key,
                                              std::initializer_list<const char*> choices)
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

std::optional<std::string> YamlReader::path(const YAML::Node& v, const std::string& key, bool root_ok)
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

std::optional<std::vector<std::pair<std::string, YAML::Node>>> YamlReader::string_list(const YAML::Node& v,
                                                                                        const std::string& key)
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

void YamlReader::syntax_error(std::string_view text, const YAML::Exception& e)
{
    // A tab in the indentation of any line up to the error: YAML forbids it, and
    // yaml-cpp only reports what it leads to.
    int line = 1;
    for (std::size_t start = 0; start < text.size() && line <= e.mark.line + 1; ++line) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view row = text.substr(start, end - start);
        const std::size_t indent = row.find_first_not_of(" \t");
        const std::string_view lead = row.substr(0, indent == std::string_view::npos ? row.size() : indent);
        if (const auto tab = lead.find('\t'); tab != std::string_view::npos) {
            error_at(line, static_cast<int>(tab) + 1,
                     "a tab in the indentation: YAML indents with spaces only [" + e.msg + "]");
            return;
        }
        start = end + 1;
    }
    std::string what = e.msg;
    if (e.msg == "end of map not found")
        what = "this line is not indented like the keys above it (a key of a map starts in the same column as "
               "the other keys of that map; a value's keys are indented further) [" + e.msg + "]";
    else if (e.msg == "end of sequence flow not found")
        what = "a '[' list is not closed with ']' [" + e.msg + "]";
    else if (e.msg == "end of map flow not found")
        what = "a '{' map is not closed with '}' [" + e.msg + "]";
    else
        what = "YAML syntax: " + e.msg;
    error_at(e.mark.line + 1, e.mark.column + 1, std::move(what));
}

} // namespace chos::config
