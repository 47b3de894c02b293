// Pinned opens (see pinned_open.hpp).
#include "common/pinned_open.hpp"

#include <array>
#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::platform {

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) noexcept
{
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = resolve;
    long fd;
    do
        fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return static_cast<int>(fd);
}

std::unexpected<Error> pinned_open_error(const char* what, const std::string& shown)
{
    const int err = errno;
    if (err == ELOOP)
        return std::unexpected(Error{"refusing path", shown, err, "a symbolic link is in the way (refused)"});
    if (err == EXDEV)
        return std::unexpected(Error{"refusing path", shown, err, "leads onto another file system (refused)"});
    return std::unexpected(Error{what, shown, err, {}});
}

Result<Fd> open_pinned(int dirfd, const std::string& relative, int flags, std::uint64_t resolve,
                       const std::string& shown, const char* what)
{
    Fd fd(openat2_fd(dirfd, relative.empty() ? "." : relative.c_str(), static_cast<std::uint64_t>(flags), resolve));
    if (!fd)
        return pinned_open_error(what, shown);
    return fd;
}

Result<Fd> open_directory(const std::string& path, int flags)
{
    return open_pinned(AT_FDCWD, path, flags | O_DIRECTORY, resolve_no_links, path, "cannot open directory");
}

Result<Fd> open_source(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd)
        return sys_error("cannot open", path);
    return fd;
}

Result<std::string> fd_path(int fd)
{
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    std::array<char, 4097> buf{};
    const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size() - 1);
    if (n < 0)
        return sys_error("cannot read", link);
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

Result<std::optional<std::string>> read_symlink_at(int dirfd, const std::string& name, const std::string& shown)
{
    std::array<char, 4097> buf{};
    const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) {
        if (errno == EINVAL || errno == ENOENT)
            return std::optional<std::string>{};
        return sys_error("cannot read symlink", shown);
    }
    return std::optional<std::string>(std::string(buf.data(), static_cast<std::size_t>(n)));
}

Result<> ensure_symlink_at(int dirfd, const std::string& name, const std::string& target, const std::string& shown)
{
    if (::symlinkat(target.c_str(), dirfd, name.c_str()) == 0)
        return {};
    if (errno != EEXIST)
        return sys_error("cannot create symlink", shown);
    auto existing = read_symlink_at(dirfd, name, shown);
    if (!existing)
        return std::unexpected(existing.error());
    if (!*existing)
        return error("cannot create symlink", shown, "something else is already there");
    if (**existing != target)
        return error("cannot create symlink", shown, "it exists and points to '" + **existing + "'");
    return {};
}

} // namespace chos::platform
