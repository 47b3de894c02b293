// What both registry backends do with cgroup file systems (see cgroup_fs.hpp).
#include "registry/cgroup_fs.hpp"

#include "common/file_io.hpp"
#include "common/pinned_open.hpp"
#include "common/root_only.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace chos::registry {

namespace {

// Far above any real cgroup.procs or /proc/<pid>/cgroup, small enough that a hostile
// or broken file cannot exhaust memory.
constexpr std::size_t max_text_size = 16 * 1024 * 1024;

} // namespace

Result<Fd> open_below(int dirfd, const std::string& name, int flags, const std::string& shown)
{
    return platform::open_pinned(dirfd, name, flags | O_NOFOLLOW, platform::resolve_beneath_same_fs, shown);
}

Result<> check_fs(int fd, long magic, const std::string& shown, const char* expected)
{
    struct statfs sfs {};
    if (::fstatfs(fd, &sfs) != 0)
        return sys_error("cannot statfs", shown);
    if (sfs.f_type != magic)
        return error("not the registry", shown, std::string("is not a ") + expected + " file system");
    return {};
}

Result<> check_root_only(int fd, const std::string& shown, bool directory)
{
    return platform::check_root_only(fd, directory ? platform::FileKind::directory : platform::FileKind::any,
                                     "refusing registry object", shown);
}

Result<> make_cgroup(int dirfd, const std::string& name, const std::string& shown, const char* what)
{
    if (::mkdirat(dirfd, name.c_str(), 0755) == 0) {
        if (::fchmodat(dirfd, name.c_str(), 0755, 0) != 0)
            return sys_error("cannot set the mode of", shown);
    } else if (errno != EEXIST) {
        return sys_error(what, shown);
    }
    return {};
}

Result<> write_pid(int procs_fd, pid_t pid, const std::string& shown)
{
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, pid);
    if (ec != std::errc{})
        return error("cannot format pid", shown, "out of range");
    const auto len = static_cast<std::size_t>(end - buf);
    ssize_t n;
    do
        n = ::write(procs_fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error("cannot register pid " + std::to_string(pid) + " in", shown);
    if (static_cast<std::size_t>(n) != len)
        return error("cannot register pid " + std::to_string(pid) + " in", shown, "short write");
    return {};
}

Result<std::vector<std::string>> child_cgroups(int dirfd, const std::string& shown)
{
    auto rd = open_below(dirfd, ".", O_RDONLY | O_DIRECTORY, shown);
    if (!rd)
        return std::unexpected(Error{"cannot list", shown, rd.error().err, {}});
    auto entries = platform::read_directory(std::move(*rd), shown);
    if (!entries)
        return std::unexpected(Error{"cannot list", shown, entries.error().err, {}});
    std::vector<std::string> names;
    for (auto& entry : *entries)
        if (entry.directory)
            names.push_back(std::move(entry.name));
    return names;
}

Result<std::size_t> count_procs(int cgroup_dir, const std::string& shown)
{
    auto fd = open_below(cgroup_dir, "cgroup.procs", O_RDONLY, shown + "/cgroup.procs");
    if (!fd)
        return std::unexpected(fd.error());
    auto text = platform::read_all(fd->get(), max_text_size, shown + "/cgroup.procs");
    if (!text)
        return std::unexpected(text.error());
    return static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n'));
}

std::string join_names(const std::vector<std::string>& names)
{
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

Result<std::string_view> ProcCgroup::read(pid_t pid)
{
    if (pid <= 0)
        return error("cannot read registration", std::to_string(pid), "not a process id");
    char path[40] = "/proc/";
    auto [end, ec] = std::to_chars(path + 6, path + sizeof path - 8, pid);
    if (ec != std::errc{})
        return error("cannot read registration", std::to_string(pid), "not a process id");
    std::copy_n("/cgroup", 8, end);
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd)
        return sys_error("cannot read registration of pid", std::to_string(pid));
    ssize_t n;
    do
        n = ::read(fd.get(), buf_.data(), buf_.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error("cannot read registration of pid", std::to_string(pid));
    if (static_cast<std::size_t>(n) < buf_.size())
        return std::string_view(buf_.data(), static_cast<std::size_t>(n));
    auto rest = platform::read_all(fd.get(), max_text_size, path);
    if (!rest)
        return std::unexpected(rest.error());
    spill_.assign(buf_.data(), buf_.size());
    spill_ += *rest;
    return std::string_view(spill_);
}

} // namespace chos::registry
