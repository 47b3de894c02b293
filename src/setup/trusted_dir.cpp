// Directories setup adopts (see trusted_dir.hpp).
#include "setup/trusted_dir.hpp"

#include "common/root_only.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

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
        if (auto problem = platform::ownership_problem(st, platform::FileKind::directory, {.sticky_ok = true}))
            return error("refusing to create", path, "its parent " + *problem);
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
    if (auto ok = platform::check_root_only(dir.fd.get(), platform::FileKind::directory, "refusing directory", path);
        !ok)
        return std::unexpected(ok.error());
    return dir;
}

} // namespace chos::setup
