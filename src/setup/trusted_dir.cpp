// Directories setup adopts (see trusted_dir.hpp).
#include "setup/trusted_dir.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

Result<> check_trusted_directory(int fd, const std::string& shown)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error("cannot stat", shown);
    if (!S_ISDIR(st.st_mode))
        return error("refusing directory", shown, "is not a directory");
    if (st.st_uid != 0)
        return error("refusing directory", shown, "is owned by uid " + std::to_string(st.st_uid) + ", not root");
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return error("refusing directory", shown, "is writable by group or others");
    return {};
}

Result<TrustedDirectory> open_trusted_directory(const std::string& path, bool create)
{
    if (path.size() < 2 || path.front() != '/' || path.back() == '/')
        return error("refusing directory", path, "is not an absolute path below '/'");
    const auto slash = path.rfind('/');
    TrustedDirectory dir;
    dir.name = path.substr(slash + 1);
    const std::string parent_path = slash == 0 ? "/" : path.substr(0, slash);
    dir.parent.reset(::open(parent_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.parent)
        return sys_error("cannot open directory", parent_path);

    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    dir.fd.reset(::openat(dir.parent.get(), dir.name.c_str(), flags));
    if (!dir.fd && errno == ENOENT && create) {
        struct stat st {};
        if (::fstat(dir.parent.get(), &st) != 0)
            return sys_error("cannot stat", parent_path);
        if (st.st_uid != 0)
            return error("refusing to create", path, "its parent is not owned by root");
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
            return error("refusing to create", path, "its parent is writable by group or others");
        if (::mkdirat(dir.parent.get(), dir.name.c_str(), 0755) == 0)
            dir.created = true;
        else if (errno != EEXIST)
            return sys_error("cannot create directory", path);
        // Whatever is there now is opened without following and checked like a
        // pre-existing one: an attacker's entry that won a race is refused.
        dir.fd.reset(::openat(dir.parent.get(), dir.name.c_str(), flags));
    }
    if (!dir.fd) {
        if (errno == ELOOP || errno == ENOTDIR) {
            // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR: say which it is.
            struct stat st {};
            const bool link = ::fstatat(dir.parent.get(), dir.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                              S_ISLNK(st.st_mode);
            return error("refusing directory", path, link ? "is a symbolic link" : "is not a directory");
        }
        return sys_error("cannot open directory", path);
    }
    // A failed check leaves the entry alone even if we made it: what is there now
    // may be someone else's, swapped in after our mkdir.
    if (auto ok = check_trusted_directory(dir.fd.get(), path); !ok)
        return std::unexpected(ok.error());
    return dir;
}

} // namespace chos::setup
