// The registry handle: what both backends share around their own work (see
// registry.hpp; choosing the backend is resolve.cpp's).
#include "registry/registry.hpp"

#include "common/pinned_open.hpp"
#include "config/names.hpp"
#include "registry/backend.hpp"
#include "registry/cgroup_fs.hpp"

#include <cerrno>
#include <unistd.h>

namespace chos::registry {

Registry::Registry(const config::Config& config, std::shared_ptr<const Backend> backend)
    : backend_(std::move(backend)), name_(config.registry.name), mount_(config.registry.mount)
{
}

config::RegistryType Registry::type() const noexcept
{
    return backend_->type();
}

std::string Registry::describe() const
{
    return backend_->describe();
}

Result<> Registry::enter(pid_t pid, const std::string& environment) const
{
    if (!config::is_valid_environment_name(environment))
        return error("cannot register", config::quote_for_message(environment),
                     "not a valid environment name (see chos.yaml(5))");
    if (pid <= 0)
        return error("cannot register", std::to_string(pid), "not a process id");
    if (auto placed = backend_->place(pid, environment); !placed)
        return placed;
    // Read back what the link will read: the registration is only done when
    // /proc/<pid>/cgroup says so (a different hierarchy mounted at the path, or a
    // kernel that silently ignored the write, must not pass as success).
    auto m = backend_->membership(pid);
    if (!m)
        return std::unexpected(m.error());
    if (!m->registered || m->environment != environment)
        return error("registration did not take effect", environment,
                     "/proc/" + std::to_string(pid) + "/cgroup shows " +
                         (m->registered ? "'" + m->environment + "'" : std::string("no environment")));
    return {};
}

Result<Membership> Registry::membership(pid_t pid) const
{
    return backend_->membership(pid);
}

Result<std::size_t> Registry::count(const std::string& environment) const
{
    if (!config::is_valid_environment_name(environment))
        return error("cannot count", config::quote_for_message(environment),
                     "not a valid environment name (see chos.yaml(5))");
    return backend_->count(environment);
}

bool Registry::hierarchy_exists() const
{
    if (type() != config::RegistryType::cgroup1)
        return false;
    ProcCgroup proc;
    auto text = proc.read(::getpid());
    return text && cgroup1_path(*text, name_).has_value();
}

Result<> Registry::ready(const std::string& environment) const
{
    if (!config::is_valid_environment_name(environment))
        return error("not ready", config::quote_for_message(environment),
                     "not a valid environment name (see chos.yaml(5))");
    return backend_->ready(environment);
}

Result<std::size_t> Registry::collect_empty_leaves() const
{
    return backend_->collect_empty_leaves();
}

Result<> Registry::teardown() const
{
    // A mount point swapped for a symlink is an error, never "not mounted here": the
    // registry may still be mounted where the real directory went.
    if (auto dir = platform::open_directory(mount_); !dir && dir.error().err != ENOENT)
        return std::unexpected(dir.error());
    auto mounts = platform::read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    return backend_->teardown(platform::top_mount_at(*mounts, mount_));
}

} // namespace chos::registry
