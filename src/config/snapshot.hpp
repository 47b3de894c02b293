// The configuration snapshot (chos.yaml(5) "SNAPSHOT"): the validated Config of
// /etc/chos.yaml, written by chos-setup beside it with the exact text it came from,
// so the launcher skips the YAML parse on every launch (docs/benchmarks.md, W1).
// Its encoding is derived from the model's field lists (Config::fields in
// config.hpp): a field added to the model reaches the snapshot by itself.
//
// The launcher uses a snapshot only when it passes the same file checks as the
// configuration (root-owned, not writable by others, no symlink on the way) and the
// text it holds is byte for byte the configuration just read. Anything else -- no
// snapshot, an edited configuration, a truncated or foreign file -- means parsing the
// YAML, exactly as without a snapshot: the result is the same Config either way.
#pragma once

#include "config/config.hpp"
#include "config/yaml_config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace chos::config {

// The model's shape: every field's name and type, in order. A snapshot records its
// fingerprint and is never decoded by a program of another shape.
[[nodiscard]] std::string snapshot_schema();

// `config` as parsed from `text`, as the bytes of a snapshot.
[[nodiscard]] std::string encode_snapshot(const Config& config, std::string_view text);

// The Config of a snapshot made from exactly `text` (its source set to `file`); nullopt
// for a snapshot of another text, of another schema, or malformed in any way.
[[nodiscard]] std::optional<Config> decode_snapshot(std::string_view snapshot, std::string_view text,
                                                    const std::string& file);

// Where the snapshot of the configuration at `config_path` lives.
[[nodiscard]] std::string snapshot_path_for(const std::string& config_path);

// load_config() through the snapshot: the same checks and the same Config (or
// ConfigError), without parsing when the snapshot matches. `from_snapshot`, when
// given, says which way it went.
[[nodiscard]] Config load_config_via_snapshot(const std::string& path, FileTrust trust = {},
                                              bool* from_snapshot = nullptr);

} // namespace chos::config
