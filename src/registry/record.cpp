// The resolved registry, recorded by chos-setup in <run_dir>/registry, so that a
// launch with `registry.type: auto` (the default) does not parse /proc/self/mountinfo
// in its privileged window (docs/benchmarks.md, W1). One line: "cgroup1", or
// "cgroup2 <where the cgroup2 hierarchy is mounted>".
//
// Trusting it costs nothing in safety: enter() checks the file system type of the
// hierarchy it writes to and reads the registration back from /proc/<pid>/cgroup, so a
// record that went stale (an admin remounting by hand) fails closed there.
#include "registry/registry.hpp"

#include "common/fd.hpp"
#include "common/file_io.hpp"
#include "common/layout.hpp"
#include "common/root_only.hpp"
#include "config/names.hpp"
#include "registry/backend.hpp"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::registry {

namespace {

const std::string record_name(layout::registry_record_name);
constexpr std::size_t max_record = 4096;

struct Recorded {
    config::RegistryType type;
    std::string cgroup2_root;
};

// The record, when it is a root-owned regular file nobody else can write, holding one
// well-formed line.
std::optional<Recorded> read_record(const std::string& run_dir)
{
    const std::string path = run_dir + "/" + record_name;
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || platform::ownership_problem(st, platform::FileKind::regular))
        return std::nullopt;
    char buf[max_record];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0 || static_cast<std::size_t>(n) == sizeof buf || buf[n - 1] != '\n')
        return std::nullopt;
    const std::string_view line(buf, static_cast<std::size_t>(n - 1));
    if (line == "cgroup1")
        return Recorded{config::RegistryType::cgroup1, {}};
    constexpr std::string_view v2 = "cgroup2 ";
    if (line.starts_with(v2)) {
        std::string root(line.substr(v2.size()));
        if (!config::absolute_path_problem(root))
            return Recorded{config::RegistryType::cgroup2, std::move(root)};
    }
    return std::nullopt;
}

} // namespace

Result<Registry> Registry::open_recorded(const config::Config& config)
{
    if (config.registry.type != config::RegistryType::cgroup1) {
        auto recorded = read_record(config.run_dir);
        if (recorded && (config.registry.type == config::RegistryType::automatic ||
                         config.registry.type == recorded->type)) {
            if (recorded->type == config::RegistryType::cgroup1)
                return Registry(config, make_cgroup1(config.registry.name, config.registry.mount));
            return Registry(config, make_cgroup2(config.registry.mount, recorded->cgroup2_root));
        }
    }
    return open(config);
}

Result<> Registry::record(int run_dir_fd, const std::string& run_dir) const
{
    return platform::replace_file(run_dir_fd, record_name, backend_->record_line() + "\n", 0644, run_dir);
}

Result<> Registry::forget(int run_dir_fd, const std::string& run_dir)
{
    if (::unlinkat(run_dir_fd, record_name.c_str(), 0) != 0 && errno != ENOENT)
        return sys_error("cannot remove", run_dir + "/" + record_name);
    return {};
}

} // namespace chos::registry
