// Is a path the administrator's alone (see trusted_path.hpp).
#include "common/trusted_path.hpp"

#include "common/fd.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::platform {

namespace {

constexpr int max_symlinks = 40; // the kernel's own limit (ELOOP)

std::deque<std::string> components(const std::string& path)
{
    std::deque<std::string> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        const std::size_t next = path.find('/', i);
        const std::string part = path.substr(i, next == std::string::npos ? std::string::npos : next - i);
        if (!part.empty() && part != ".")
            parts.push_back(part);
        if (next == std::string::npos)
            break;
        i = next + 1;
    }
    return parts;
}

std::string parent_of(const std::string& shown)
{
    const auto slash = shown.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : shown.substr(0, slash);
}

// Who besides root controls `dir` (where `entry` is looked up); nullopt: nobody.
std::optional<std::string> controller(const struct stat& dir, const struct stat& entry)
{
    if (dir.st_uid != 0)
        return "owned by uid " + std::to_string(dir.st_uid);
    if ((dir.st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return std::nullopt;
    if ((dir.st_mode & S_ISVTX) != 0 && entry.st_uid == 0)
        return std::nullopt;
    if ((dir.st_mode & S_IWOTH) == 0)
        return "writable by gid " + std::to_string(dir.st_gid);
    return "writable by everyone";
}

} // namespace

std::optional<std::string> path_problem(const std::string& path)
{
    if (path.empty() || path.front() != '/')
        return "is not an absolute path";
    std::deque<std::string> todo = components(path);
    Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    std::string shown = "/"; // the directory `dir` is, as reached
    int hops = 0;
    while (!todo.empty()) {
        const std::string name = todo.front();
        todo.pop_front();
        if (name == "..") {
            // Only ever in a symlink's target: go up by name, checked like any lookup.
            shown = parent_of(shown);
            dir = Fd(::open(shown.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
            if (!dir.valid())
                return "'" + shown + "': " + std::strerror(errno);
            continue;
        }
        const std::string here = shown == "/" ? "/" + name : shown + "/" + name;
        struct stat dst {}, st {};
        if (::fstat(dir.get(), &dst) != 0)
            return "'" + shown + "': " + std::strerror(errno);
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return "'" + here + "': " + std::strerror(errno);
        const auto who = controller(dst, st);
        if (S_ISLNK(st.st_mode)) {
            if (who)
                return "a symlink through a directory " + *who + " ('" + shown + "'): '" + here +
                       "' can be repointed by someone other than root";
            if (++hops > max_symlinks)
                return "'" + here + "': too many levels of symbolic links";
            char target[PATH_MAX];
            const ssize_t n = ::readlinkat(dir.get(), name.c_str(), target, sizeof target - 1);
            if (n < 0)
                return "'" + here + "': " + std::strerror(errno);
            const std::string to(target, static_cast<std::size_t>(n));
            auto more = components(to);
            todo.insert(todo.begin(), more.begin(), more.end());
            if (!to.empty() && to.front() == '/') {
                dir = Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
                shown = "/";
            }
            continue;
        }
        if (who)
            return "passes through '" + shown + "', " + *who + ": '" + here +
                   "' can be replaced by someone other than root";
        if (todo.empty())
            break;
        if (!S_ISDIR(st.st_mode))
            return "'" + here + "' is not a directory";
        Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid())
            return "'" + here + "': " + std::strerror(errno);
        dir = std::move(next);
        shown = here;
    }
    return std::nullopt;
}

} // namespace chos::platform
