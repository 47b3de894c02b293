// One way of recording environments (internal to src/registry): the named cgroup v1
// hierarchy (cgroup1.cpp) or cgroup2 leaves (cgroup2.cpp). Registry (registry.hpp)
// holds one and adds what both share: choosing which (resolve.cpp), mounting,
// reading a registration back after writing it, the record for the launchers.
#pragma once

#include "common/error.hpp"
#include "common/mountinfo.hpp"
#include "config/config.hpp"
#include "registry/registry.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chos::registry {

class Backend {
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    virtual ~Backend() = default;

    [[nodiscard]] virtual config::RegistryType type() const noexcept = 0;
    // "cgroup1 name=<name> at <mount>" / "cgroup2 leaves under <root>"
    [[nodiscard]] virtual std::string describe() const = 0;
    // What Registry::record() writes for the launchers: "cgroup1" / "cgroup2 <root>".
    [[nodiscard]] virtual std::string record_line() const = 0;

    // Move pid's thread group into `environment` (a valid name). Needs root. The read
    // back is the caller's (Registry::enter).
    [[nodiscard]] virtual Result<> place(pid_t pid, const std::string& environment) const = 0;
    [[nodiscard]] virtual Result<Membership> membership(pid_t pid) const = 0;

    // chos-setup, once the hierarchy is mounted (`root`: the pinned root of the mount
    // just made, or -1 to open it by path): make what the config needs, remove what it
    // no longer names when nothing uses it. Returns the removed-but-busy environments.
    [[nodiscard]] virtual Result<std::vector<std::string>> populate(const config::Config& config, int root) const = 0;
    [[nodiscard]] virtual Result<std::size_t> count(const std::string& environment) const = 0;
    // Could a process be registered in `environment` now (what place() needs is there)?
    [[nodiscard]] virtual Result<> ready(const std::string& environment) const = 0;
    // Remove everything this backend made and unmount it from the registry's mount
    // point when `top` (what is mounted there now) is its. err EBUSY: only because
    // processes are still registered.
    [[nodiscard]] virtual Result<> teardown(const platform::MountEntry* top) const = 0;
    [[nodiscard]] virtual Result<std::size_t> collect_empty_leaves() const { return std::size_t{0}; }
};

[[nodiscard]] std::shared_ptr<const Backend> make_cgroup1(const std::string& name, const std::string& mount);
[[nodiscard]] std::shared_ptr<const Backend> make_cgroup2(const std::string& mount, const std::string& root);

} // namespace chos::registry
