// libFuzzer target: chos.yaml parsing must refuse or accept, never crash or hang; a
// refused text read partially (chos-setup check) gives the same problems.
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
        // check's partial read of the same text: the same problems, never a crash.
        const auto partial = chos::config::parse_config_partial(text, "fuzz.yaml");
        if (partial.errors.size() != e.diagnostics().size())
            __builtin_trap();
        for (const auto& env : partial.config.environments)
            if (env.source().empty())
                __builtin_trap(); // an environment left in is a whole one (a path or an image)
    }
    return 0;
}
