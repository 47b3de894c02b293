// The daemon's pid file (see pid_file.hpp).
#include "common/pid_file.hpp"

#include "common/fd.hpp"
#include "common/file_io.hpp"
#include "common/root_only.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace chos::platform {

namespace {

// A pid file is a number and a newline: anything longer is not one.
constexpr std::size_t max_pid_text = 32;

} // namespace

Result<pid_t> read_pid_file(int dirfd, const std::string& name, const std::string& shown)
{
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return 0;
        if (errno == ELOOP)
            return error("refusing pid file", shown, "is a symbolic link");
        return sys_error("cannot open", shown);
    }
    if (auto ok = check_root_only(fd.get(), FileKind::regular, "refusing pid file", shown); !ok)
        return std::unexpected(ok.error());
    std::array<char, max_pid_text> buf{};
    ssize_t n;
    do
        n = ::read(fd.get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error("cannot read", shown);
    std::string_view text(buf.data(), static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc{} || end != text.data() + text.size() || pid <= 1)
        return 0; // no usable pid: as if there were no file
    return pid;
}

DaemonState daemon_state(pid_t pid, std::string_view comm)
{
    if (pid <= 0)
        return DaemonState::gone;
    char path[32] = "/proc/";
    auto [end, ec] = std::to_chars(path + 6, path + sizeof path - 6, pid);
    if (ec != std::errc{})
        return DaemonState::gone;
    std::copy_n("/stat", 6, end);
    Fd fd(::open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
    if (!fd)
        return DaemonState::gone;
    std::array<char, 512> buf{};
    ssize_t n;
    do
        n = ::read(fd.get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return DaemonState::gone;
    // "pid (comm) S ...": the name between the first '(' and the last ')' (a name may
    // hold ')' itself), the state letter right after.
    const std::string_view stat(buf.data(), static_cast<std::size_t>(n));
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        close + 2 >= stat.size() || stat.substr(open + 1, close - open - 1) != comm)
        return DaemonState::gone;
    switch (stat[close + 2]) {
    case 'T':
    case 't':
        return DaemonState::stopped;
    case 'Z':
    case 'X':
    case 'x':
        return DaemonState::gone;
    default:
        return DaemonState::running;
    }
}

unsigned long long process_start_time(pid_t pid)
{
    if (pid <= 0)
        return 0;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
    if (!fd)
        return 0;
    std::array<char, 1024> buf{};
    ssize_t n;
    do
        n = ::read(fd.get(), buf.data(), buf.size());
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    std::string_view stat(buf.data(), static_cast<std::size_t>(n));
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return 0;
    stat.remove_prefix(close + 1);
    // After "(comm)": field 3 (state) is the first; the start time is field 22.
    for (int field = 3; field < 22; ++field) {
        const auto space = stat.find(' ', 1);
        if (space == std::string_view::npos)
            return 0;
        stat.remove_prefix(space);
    }
    while (!stat.empty() && stat.front() == ' ')
        stat.remove_prefix(1);
    unsigned long long start = 0;
    auto [end, ec] = std::from_chars(stat.data(), stat.data() + stat.size(), start);
    if (ec != std::errc{} || end == stat.data())
        return 0;
    return start;
}

Result<> write_pid_file(int dirfd, const std::string& name, pid_t pid, const std::string& shown_dir)
{
    return replace_file(dirfd, name, std::to_string(pid) + "\n", 0644, shown_dir);
}

void remove_pid_file(int dirfd, const std::string& name, pid_t expected) noexcept
{
    try {
        auto current = read_pid_file(dirfd, name, name);
        if (!current || (expected != 0 && *current != 0 && *current != expected))
            return; // not ours to judge, or a successor's
        (void)::unlinkat(dirfd, name.c_str(), 0);
    } catch (...) {
        // (allocation failure of a message: leave the file)
    }
}

} // namespace chos::platform
