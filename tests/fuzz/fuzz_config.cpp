// libFuzzer target: chos.yaml parsing must refuse or accept, never crash or hang.
// checks: J
#include "config/yaml_config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto config = chos::config::parse_config(text, "fuzz.yaml");
        (void)config.default_env();
    } catch (const chos::config::ConfigError& e) {
        if (e.diagnostics().empty())
            __builtin_trap(); // a refusal must always say why
    }
    return 0;
}
