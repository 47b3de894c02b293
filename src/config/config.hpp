// The validated, immutable model of /etc/chos.yaml (chos.yaml(5)).
//
// Everything the other pieces know about a site comes from here. A Config is
// only ever produced by parse_config()/load_config() (yaml_config.hpp), which
// refuse anything that does not validate, so holders of a Config may trust
// every field: names match the name rule, paths are absolute and normalized.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chos::config {

// How a process's environment is recorded (DESIGN.md "Registration").
enum class RegistryType {
    automatic, // cgroup1 when the kernel accepts a named v1 hierarchy, else cgroup2
    cgroup1,   // named v1 hierarchy, no controllers, one cgroup per environment
    cgroup2,   // nested leaves <current cgroup>/chos-<env>, removed when empty
};

// Which per-process link backs the static symlinks of the tree.
enum class Backend {
    automatic, // kmod when /proc/chos exists, else fuse
    fuse,      // chos-linkfs
    kmod,      // chos.ko, /proc/chos/link
};

// A process personality for the environment (schroot's personality=).
enum class Personality { none, linux32 };

// Environment-variable rules applied to the child (DESIGN.md step 9).
struct EnvironmentRules {
    std::optional<std::vector<std::string>> keep; // when set: only these survive
    std::vector<std::string> unset;
    std::map<std::string, std::string> set;

    friend bool operator==(const EnvironmentRules&, const EnvironmentRules&) = default;
};

struct Environment {
    std::string name;        // matches is_valid_environment_name()
    std::string path;        // absolute, normalized; "/" is the host
    std::string description;
    std::vector<std::string> users;  // empty users and groups: everyone may use it
    std::vector<std::string> groups;
    Personality personality = Personality::none;
    EnvironmentRules rules;  // applied after the global rules
    int line = 0;            // where it was defined, for messages

    [[nodiscard]] bool is_host() const { return path == "/"; }
    [[nodiscard]] bool restricted() const { return !users.empty() || !groups.empty(); }

    friend bool operator==(const Environment&, const Environment&) = default;
};

struct BindMount {
    std::string source;      // absolute host path
    std::string target;      // absolute path inside the tree
    bool dev = false;        // device nodes usable (default only for /dev and below)
    bool optional = false;   // a missing source is skipped, not an error
    bool recursive = true;   // rbind (sub-mounts such as autofs homes appear)

    friend bool operator==(const BindMount&, const BindMount&) = default;
};

struct RegistryConfig {
    RegistryType type = RegistryType::automatic;
    std::string name = "chos";                   // name=<name> of the v1 hierarchy
    std::string mount = "/sys/fs/cgroup/chos";   // where chos-setup mounts it

    friend bool operator==(const RegistryConfig&, const RegistryConfig&) = default;
};

struct Config {
    std::string source;                  // file it came from ("<string>" in tests)
    std::string default_environment;     // empty: no default
    std::string user_file = ".chos";     // relative to $HOME, no '/'
    bool fail_to_default = true;
    Backend backend = Backend::automatic;
    std::string tree = "/chos";          // the shared chroot
    std::string run_dir = "/run/chos";   // root-owned runtime state (pid file)
    bool local = true;                   // bind the host root at <tree>/local
    bool local_suid = false;             // ... without nosuid (admin opt-in)
    RegistryConfig registry;
    std::vector<Environment> environments; // in file order
    std::vector<std::string> os_dirs;
    std::vector<BindMount> binds;
    std::vector<std::string> shared_files;
    EnvironmentRules rules;

    [[nodiscard]] const Environment* find(std::string_view name) const;
    [[nodiscard]] const Environment* default_env() const { return find(default_environment); }

    // Field by field (the configuration snapshot's round trip is tested with it).
    friend bool operator==(const Config&, const Config&) = default;
};

// Default os_dirs when the key is absent (the top-level directories of a distribution).
const std::vector<std::string>& default_os_dirs();

} // namespace chos::config
