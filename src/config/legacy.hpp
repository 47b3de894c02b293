// Import of the original CHOS configuration: /etc/chos (%SHELLS "name:path" lines)
// and /etc/sysconfig/chos (BINDMOUNT="..."), into equivalent chos.yaml text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chos::config {

struct LegacyShell {
    std::string name; // as written (may be a path, like "/auto/redhat73")
    std::string path;
    int line = 0;
};

struct LegacyImport {
    std::string yaml;                  // a complete chos.yaml
    std::vector<std::string> warnings; // "file:line: what was changed or ignored"
};

// The %SHELLS entries of an /etc/chos text, first match wins (as the original).
[[nodiscard]] std::vector<LegacyShell> parse_legacy_shells(std::string_view text, const std::string& file,
                                                           std::vector<std::string>& warnings);

// The BINDMOUNT list of an /etc/sysconfig/chos text (a shell variable assignment).
[[nodiscard]] std::vector<std::string> parse_legacy_bindmount(std::string_view text, const std::string& file,
                                                              std::vector<std::string>& warnings);

// Both files (either may be absent) -> chos.yaml text.
[[nodiscard]] LegacyImport import_legacy(std::optional<std::string_view> chos_text, const std::string& chos_file,
                                         std::optional<std::string_view> sysconfig_text,
                                         const std::string& sysconfig_file);

} // namespace chos::config
