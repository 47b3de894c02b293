// /etc/chos.yaml -> Config, with every problem reported as FILE:LINE:COL: message.
#pragma once

#include "common/fd.hpp"
#include "config/config.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::config {

struct Diagnostic {
    std::string file;
    int line = 0;   // 1-based; 0 when the problem concerns the whole file
    int column = 0; // 1-based
    std::string message;

    [[nodiscard]] std::string str() const; // "file:line:col: message" (or "file: message")
};

// Thrown by parse_config()/load_config(); holds every problem found, not just the first.
class ConfigError : public std::runtime_error {
public:
    explicit ConfigError(std::vector<Diagnostic> diagnostics);
    [[nodiscard]] const std::vector<Diagnostic>& diagnostics() const noexcept { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

inline constexpr std::size_t max_config_size = 1024 * 1024;

// Parse and validate YAML text. `file` is used in messages only.
[[nodiscard]] Config parse_config(std::string_view text, const std::string& file);

// What parse_config() could read of a file it refuses, for `chos-setup check`, which
// reports the rules' problems and then checks the machine for what did parse (every
// problem at once). Every environment, list entry or key with a problem is reported in
// `errors` and left out of `config` (a key left out keeps its default). Nothing may be
// built or entered from a partial configuration: start, reload and the launchers call
// parse_config()/load_config(), which refuse any error.
struct PartialConfig {
    Config config;
    std::vector<Diagnostic> errors;       // empty: `config` is what parse_config() returns
    bool readable = true;                 // false: not a YAML map at all, nothing was read
    std::set<std::string> failed_keys;    // top-level keys with a problem (defaults stand)
};
[[nodiscard]] PartialConfig parse_config_partial(std::string_view text, const std::string& file);

// Who must own the config file and every directory above it (root in production;
// the test's own uid in unprivileged unit tests).
struct FileTrust {
    uid_t owner = 0;
};

// Open `path` safely (no symlink, regular file, owned by trust.owner, not writable by
// group or others, every parent directory owned by root or trust.owner and not writable
// by others, at most max_config_size bytes), then parse it.
[[nodiscard]] Config load_config(const std::string& path, FileTrust trust = {});

// Only the file checks and the read of load_config(): the text, or ConfigError.
[[nodiscard]] std::string read_trusted_file(const std::string& path, FileTrust trust,
                                            std::size_t max_size = max_config_size);

// The same in two steps, so that files beside each other (the configuration and its
// snapshot) are read with the directories above them walked and checked once.
class CheckedDirectory {
public:
    // The directory holding the file `path`, every component checked; ConfigError.
    [[nodiscard]] static CheckedDirectory of(const std::string& path, FileTrust trust);
    // read_trusted_file() of `name` in it; ConfigError.
    [[nodiscard]] std::string read(const std::string& name, std::size_t max_size = max_config_size) const;
    // Its path, ending in '/'.
    [[nodiscard]] const std::string& directory() const noexcept { return dir_; }

private:
    Fd fd_;
    std::string dir_;
    FileTrust trust_;
};

} // namespace chos::config
