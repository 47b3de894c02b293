// The parsers of chos.yaml's sections (internal to src/config; see yaml_sections.cpp).
#pragma once

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

#include <string>
#include <vector>

namespace chos::config {

void parse_registry(YamlReader& r, const YAML::Node& v, RegistryConfig& reg);
void parse_environments(YamlReader& r, const YAML::Node& v, Config& config);
void parse_os_dirs(YamlReader& r, const YAML::Node& v, Config& config);
void parse_image_dirs(YamlReader& r, const YAML::Node& v, Config& config);
// `bind_nodes` receives the node of each accepted entry (for check_tree_layout's messages).
void parse_binds(YamlReader& r, const YAML::Node& v, Config& config, std::vector<YAML::Node>& bind_nodes);
void parse_shared_files(YamlReader& r, const YAML::Node& v, Config& config);
void parse_host_commands(YamlReader& r, const YAML::Node& v, Config& config);
void parse_rules(YamlReader& r, const YAML::Node& v, const std::string& where, EnvironmentRules& rules);
// Cross-field rules about what lands inside the tree.
void check_tree_layout(YamlReader& r, const Config& config, const std::vector<YAML::Node>& bind_nodes);


} // namespace chos::config
