// The resolved registry, recorded by chos-setup in <run_dir>/registry, so that a
// launch with `registry.type: auto` (the default) does not parse
// /proc/self/mountinfo in its privileged window (bench/README.md, W1). One line:
// "cgroup1", or "cgroup2 <where the cgroup2 hierarchy is mounted>".
//
// Trusting it costs nothing in safety: enter() checks the file system type of the
// hierarchy it writes to and reads the registration back from /proc/<pid>/cgroup,
// so a record that went stale (an admin remounting by hand) fails closed there.
#include "registry/registry.hpp"

#include "common/fd.hpp"
#include "config/names.hpp"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::registry {

namespace {

constexpr const char* record_name = "registry";
constexpr const char* record_temp = "registry.new";
constexpr std::size_t max_record = 4096;

struct Recorded {
    config::RegistryType type;
    std::string cgroup2_root;
};

// The record, when it is a root-owned regular file nobody else can write, holding
// one well-formed line.
std::optional<Recorded> read_record(const std::string& run_dir)
{
    const std::string path = run_dir + "/" + record_name;
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
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
            Registry r;
            r.name_ = config.registry.name;
            r.mount_ = config.registry.mount;
            r.type_ = recorded->type;
            r.cgroup2_root_ = std::move(recorded->cgroup2_root);
            return r;
        }
    }
    return open(config);
}

Result<> Registry::record(int run_dir_fd, const std::string& run_dir) const
{
    const std::string line = type_ == config::RegistryType::cgroup1 ? "cgroup1\n" : "cgroup2 " + cgroup2_root_ + "\n";
    const std::string shown = run_dir + "/" + record_temp;
    ::unlinkat(run_dir_fd, record_temp, 0); // left by a chos-setup killed half-way
    Fd fd(::openat(run_dir_fd, record_temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        return sys_error("cannot create", shown);
    auto failed = [&](const char* what, const std::string& path, int err) -> Result<> {
        ::unlinkat(run_dir_fd, record_temp, 0);
        errno = err;
        return sys_error(what, path);
    };
    if (::fchmod(fd.get(), 0644) != 0)
        return failed("cannot set the mode of", shown, errno);
    const ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size()))
        return failed("cannot write", shown, n < 0 ? errno : EIO);
    if (::renameat(run_dir_fd, record_temp, run_dir_fd, record_name) != 0)
        return failed("cannot rename onto", run_dir + "/" + record_name, errno);
    return {};
}

Result<> Registry::forget(int run_dir_fd, const std::string& run_dir)
{
    if (::unlinkat(run_dir_fd, record_name, 0) != 0 && errno != ENOENT)
        return sys_error("cannot remove", run_dir + "/" + record_name);
    return {};
}

} // namespace chos::registry
