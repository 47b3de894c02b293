// libFuzzer target: legacy import must never crash, and what it emits must be YAML
// that our own parser reads without a syntax error (it may still refuse it: an
// original site may have no environment at all).
// checks: J
#include "config/legacy.hpp"
#include "config/yaml_config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::size_t split = text.find('\f');
    auto chos = text.substr(0, split);
    auto sysconfig = split == std::string_view::npos ? std::string_view() : text.substr(split + 1);
    auto result = chos::config::import_legacy(chos, "chos", sysconfig, "sysconfig");
    try {
        (void)chos::config::parse_config(result.yaml, "imported.yaml");
    } catch (const chos::config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            if (d.message.find("environments") == std::string::npos && chos.find('\0') == std::string_view::npos)
                __builtin_trap(); // the import produced something other than "no environments"
    }
    return 0;
}
