// libFuzzer target: decoding a configuration snapshot never crashes, never allocates
// beyond the input's size, and a snapshot that decodes re-encodes to a snapshot that
// decodes to the same configuration.
// checks: J
#include "config/snapshot.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    // The text the snapshot claims to be made from: the input's own embedded text is
    // what a matching launcher would have read, so take it from a prefix split.
    std::size_t split = input.find('\f');
    const std::string_view text = split == std::string_view::npos ? std::string_view() : input.substr(0, split);
    const std::string_view snapshot = split == std::string_view::npos ? input : input.substr(split + 1);
    if (auto config = chos::config::decode_snapshot(snapshot, text, "fuzz.yaml")) {
        auto again = chos::config::decode_snapshot(chos::config::encode_snapshot(*config, text), text, "fuzz.yaml");
        if (!again || !(*again == *config))
            __builtin_trap();
    }
    return 0;
}
