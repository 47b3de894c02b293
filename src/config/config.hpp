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

// How a process's environment is recorded (docs/architecture.md "The registry").
enum class RegistryType {
    automatic, // cgroup1 when the kernel accepts a named v1 hierarchy, else cgroup2
    cgroup1,   // named v1 hierarchy, no controllers, one cgroup per environment
    cgroup2,   // nested leaves <current cgroup>/chos-<env>, removed when empty
};
[[nodiscard]] constexpr RegistryType last_value(RegistryType) { return RegistryType::cgroup2; }

// Which per-process link backs the static symlinks of the tree.
enum class Backend {
    automatic, // kmod when /proc/chos exists, else fuse
    fuse,      // chos-linkfs
    kmod,      // chos.ko, /proc/chos/link
    namespace_, // one mount namespace per environment, held by chos-nsd (never chosen by auto)
};
[[nodiscard]] constexpr Backend last_value(Backend) { return Backend::namespace_; }

// A process personality for the environment (schroot's personality=).
enum class Personality { none, linux32 };
[[nodiscard]] constexpr Personality last_value(Personality) { return Personality::linux32; }

// Environment-variable rules applied to the child (docs/architecture.md "Entering").
struct EnvironmentRules {
    std::optional<std::vector<std::string>> keep; // when set: only these survive
    std::vector<std::string> unset;
    std::map<std::string, std::string> set;

    template <typename Visit>
    static constexpr void fields(Visit&& visit)
    {
        visit("keep", &EnvironmentRules::keep);
        visit("unset", &EnvironmentRules::unset);
        visit("set", &EnvironmentRules::set);
    }
    friend bool operator==(const EnvironmentRules&, const EnvironmentRules&) = default;
};

struct Environment {
    std::string name;        // matches is_valid_environment_name()
    std::string path;        // absolute, normalized; "/" is the host; empty for an image
    std::string image;       // absolute, normalized image file (exclusive with path)
    std::string description;
    std::vector<std::string> users;  // empty users and groups: everyone may use it
    std::vector<std::string> groups;
    Personality personality = Personality::none;
    EnvironmentRules rules;  // applied after the global rules
    bool hidden = false;     // left out of `chos --list` (still usable by name)
    int line = 0;            // where it was defined, for messages
    int path_line = 0;       // where its 'path:' or 'image:' value is (messages about the tree)
    int path_column = 0;

    [[nodiscard]] bool is_host() const { return path == "/"; }
    [[nodiscard]] bool is_image() const { return !image.empty(); }
    // The environment's source as chos.yaml names it (for messages).
    [[nodiscard]] const std::string& source() const { return is_image() ? image : path; }
    [[nodiscard]] bool restricted() const { return !users.empty() || !groups.empty(); }

    template <typename Visit>
    static constexpr void fields(Visit&& visit)
    {
        visit("name", &Environment::name);
        visit("path", &Environment::path);
        visit("image", &Environment::image);
        visit("description", &Environment::description);
        visit("users", &Environment::users);
        visit("groups", &Environment::groups);
        visit("personality", &Environment::personality);
        visit("rules", &Environment::rules);
        visit("hidden", &Environment::hidden);
        visit("line", &Environment::line);
        visit("path_line", &Environment::path_line);
        visit("path_column", &Environment::path_column);
    }
    friend bool operator==(const Environment&, const Environment&) = default;
};

struct BindMount {
    std::string source;      // absolute host path
    std::string target;      // absolute path inside the tree
    bool dev = false;        // device nodes usable (default only for /dev and below)
    bool optional = false;   // a missing source is skipped, not an error
    bool recursive = true;   // rbind (sub-mounts such as autofs homes appear)

    template <typename Visit>
    static constexpr void fields(Visit&& visit)
    {
        visit("source", &BindMount::source);
        visit("target", &BindMount::target);
        visit("dev", &BindMount::dev);
        visit("optional", &BindMount::optional);
        visit("recursive", &BindMount::recursive);
    }
    friend bool operator==(const BindMount&, const BindMount&) = default;
};

struct RegistryConfig {
    RegistryType type = RegistryType::automatic;
    std::string name = "chos";                   // name=<name> of the v1 hierarchy
    std::string mount = "/sys/fs/cgroup/chos";   // where chos-setup mounts it

    template <typename Visit>
    static constexpr void fields(Visit&& visit)
    {
        visit("type", &RegistryConfig::type);
        visit("name", &RegistryConfig::name);
        visit("mount", &RegistryConfig::mount);
    }
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
    // The administrator's directories images may lie in (chos.yaml(5) image_dirs;
    // docs/images.md): an environment's image: must be beneath one of them.
    std::vector<std::string> image_dirs;
    std::vector<BindMount> binds;
    std::vector<std::string> shared_files;
    // Host programs run from inside every environment (chos.yaml(5) host_commands): a
    // command name (found on the host's system PATH) or an absolute host path; the
    // name (basename) is what is on PATH inside, at /.chos/bin/<name>.
    std::vector<std::string> host_commands;
    EnvironmentRules rules;

    [[nodiscard]] const Environment* find(std::string_view name) const;
    [[nodiscard]] const Environment* default_env() const { return find(default_environment); }
    // The host_commands entry whose name is `name`, or nullptr.
    [[nodiscard]] const std::string* find_host_command(std::string_view name) const;

    // Every field, once, as a member pointer. The configuration snapshot (snapshot.hpp)
    // is derived from these lists: its encoder, decoder and schema walk them, so a field
    // listed here needs nothing else to reach the launchers, and
    // tests/unit/test_snapshot.cpp fails when a struct has a field its list lacks.
    // `source` is where this copy was read from, not part of the configuration.
    template <typename Visit>
    static constexpr void fields(Visit&& visit)
    {
        visit.skip("source", &Config::source);
        visit("default_environment", &Config::default_environment);
        visit("user_file", &Config::user_file);
        visit("fail_to_default", &Config::fail_to_default);
        visit("backend", &Config::backend);
        visit("tree", &Config::tree);
        visit("run_dir", &Config::run_dir);
        visit("local", &Config::local);
        visit("local_suid", &Config::local_suid);
        visit("registry", &Config::registry);
        visit("environments", &Config::environments);
        visit("os_dirs", &Config::os_dirs);
        visit("image_dirs", &Config::image_dirs);
        visit("binds", &Config::binds);
        visit("shared_files", &Config::shared_files);
        visit("host_commands", &Config::host_commands);
        visit("rules", &Config::rules);
    }
    // Field by field (the configuration snapshot's round trip is tested with it).
    friend bool operator==(const Config&, const Config&) = default;
};

// The name of a host_commands entry: the entry itself, or the basename of a path.
[[nodiscard]] std::string_view host_command_name(std::string_view entry);

// Default os_dirs when the key is absent (the top-level directories of a distribution).
const std::vector<std::string>& default_os_dirs();

} // namespace chos::config
