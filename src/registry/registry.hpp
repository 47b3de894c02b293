// How a process's environment is recorded and read back (docs/architecture.md "The
// registry"): a named cgroup v1 hierarchy (cgroup1.cpp) or, where the kernel refuses
// those, cgroup2 leaves (cgroup2.cpp), behind one interface (backend.hpp). Which one
// `registry.type: auto` means is decided in resolve.cpp.
//
// Shared by the enter library (launcher, PAM, SPANK), chos-setup and chos-linkfs.
// Library code: it never logs, it returns Result values.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::registry {

// What a pid's registration is, read back from /proc/<pid>/cgroup.
struct Membership {
    bool registered = false;
    std::string environment; // valid environment name when registered
};

class Backend;

// A value: cheap to copy, every copy uses the same backend.
class Registry {
public:
    // The registry a config describes; resolves `automatic` by looking at what is
    // mounted (a mounted name=<name> hierarchy at registry.mount means cgroup1).
    // Does not mount anything.
    [[nodiscard]] static Result<Registry> open(const config::Config& config);

    [[nodiscard]] config::RegistryType type() const noexcept;
    [[nodiscard]] const std::string& hierarchy_name() const noexcept { return name_; }
    [[nodiscard]] const std::string& mount_point() const noexcept { return mount_; }
    // "cgroup1 name=<name> at <mount>" or "cgroup2 leaves under <root>", for logs and status.
    [[nodiscard]] std::string describe() const;

    // open(), but first from the record chos-setup left in run_dir (record()): what
    // `automatic` resolved to and where cgroup2 is, without parsing mountinfo on
    // every launch. No usable record (absent, not root's alone, malformed, of
    // another type than the config names): open().
    [[nodiscard]] static Result<Registry> open_recorded(const config::Config& config);

    // Move pid (its whole thread group) into env. Needs root. The environment's
    // cgroup must exist (chos-setup made it); a missing one is an error, never
    // created here for cgroup1.
    [[nodiscard]] Result<> enter(pid_t pid, const std::string& environment) const;

    // Read back pid's registration. An error when /proc/<pid>/cgroup cannot be read
    // (the process vanished) or holds a registration that is not well-formed
    // (fail closed).
    [[nodiscard]] Result<Membership> membership(pid_t pid) const;

    // --- chos-setup's side -------------------------------------------------
    // Mount the hierarchy (cgroup1) if not yet mounted; create one root-owned cgroup
    // per environment, remove cgroups of environments no longer configured when
    // they are empty. Returns the names of removed-but-busy environments.
    [[nodiscard]] Result<std::vector<std::string>> sync(const config::Config& config) const;
    // Leave in run_dir (an fd of the root-owned directory) what this registry
    // resolved to, for open_recorded(); forget() removes it (chos-setup stop).
    [[nodiscard]] Result<> record(int run_dir_fd, const std::string& run_dir) const;
    [[nodiscard]] static Result<> forget(int run_dir_fd, const std::string& run_dir);
    // cgroup1: does the kernel already hold a hierarchy of this name (every process
    // has a line for each existing v1 hierarchy, in any mount namespace)? Named
    // hierarchies are kernel-global: one already there before this instance mounts
    // its own is another instance's, or one left behind. cgroup2: false.
    [[nodiscard]] bool hierarchy_exists() const;
    // Could a process be registered in env now (chos-setup status): cgroup1, its
    // cgroup exists in the mounted hierarchy and is root's alone; cgroup2, the
    // cgroup2 root the leaves are made under is there.
    [[nodiscard]] Result<> ready(const std::string& environment) const;
    // Number of processes registered in env (cgroup.procs lines).
    [[nodiscard]] Result<std::size_t> count(const std::string& environment) const;
    // Remove every environment cgroup and unmount the hierarchy (chos-setup stop).
    // err EBUSY: only because processes are still registered.
    [[nodiscard]] Result<> teardown() const;
    // cgroup2: remove every empty root-owned chos-<env> leaf of the cgroup2 tree
    // (rmdir is refused by the kernel while a leaf holds a process, so there is no
    // check-then-remove race). Returns how many were removed; cgroup1: always 0
    // (one cgroup per environment, nothing accumulates: docs/properties.md, P5).
    [[nodiscard]] Result<std::size_t> collect_empty_leaves() const;

private:
    Registry(const config::Config& config, std::shared_ptr<const Backend> backend);

    std::shared_ptr<const Backend> backend_;
    std::string name_;
    std::string mount_;
};

// Parsers of /proc/<pid>/cgroup text (fuzzed: tests/fuzz).
// cgroup1: the path of the line whose controller field is exactly "name=<hierarchy>";
// nullopt when there is no such line.
[[nodiscard]] std::optional<std::string> cgroup1_path(std::string_view proc_cgroup,
                                                      std::string_view hierarchy);
// cgroup2: the path of the "0::" line; nullopt when absent.
[[nodiscard]] std::optional<std::string> cgroup2_path(std::string_view proc_cgroup);
// Turn a cgroup path into a membership: cgroup1 "/" -> unregistered, "/<env>" ->
// env; cgroup2 ".../chos-<env>" -> env, anything else -> unregistered. Malformed
// (nested v1 paths, invalid names): nullopt, which callers treat as fail closed.
[[nodiscard]] std::optional<Membership> membership_from_cgroup1(std::string_view path);
[[nodiscard]] std::optional<Membership> membership_from_cgroup2(std::string_view path);
// A cgroup path as the kernel writes it: absolute, no empty, "." or ".." component
// ("/.." shows a cgroup outside the reader's cgroup namespace).
[[nodiscard]] bool is_clean_cgroup_path(std::string_view path);

// The prefix of cgroup2 registration leaves: "chos-<env>".
inline constexpr std::string_view cgroup2_leaf_prefix = "chos-";

} // namespace chos::registry
