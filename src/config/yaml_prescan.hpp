// A first pass over chos.yaml's event stream, before any tree is built (internal to
// src/config): aliases and anchors are refused (an alias bomb is cheap for yaml-cpp's
// shared nodes but not for whoever walks them), the document's size and depth are
// bounded, and only one document is allowed. Throws ConfigError (through
// YamlReader::give_up) when the text must not be parsed further.
#pragma once

#include "config/yaml_reader.hpp"

#include <string_view>

namespace chos::config {

void prescan_yaml(std::string_view text, YamlReader& r);

} // namespace chos::config
