// The ownership rule (see root_only.hpp).
#include "common/root_only.hpp"

#include "common/pinned_open.hpp"

#include <cerrno>
#include <fcntl.h>

namespace chos::platform {

namespace {

std::string owner_text(const OwnerRule& rule)
{
    if (rule.owner == 0)
        return "root";
    return (rule.or_root ? "root or uid " : "uid ") + std::to_string(rule.owner);
}

} // namespace

std::optional<std::string> ownership_problem(const struct stat& st, FileKind kind, OwnerRule rule)
{
    if (kind == FileKind::directory && !S_ISDIR(st.st_mode))
        return "is not a directory";
    if (kind == FileKind::regular && !S_ISREG(st.st_mode))
        return "is not a regular file";
    if (st.st_uid != rule.owner && !(rule.or_root && st.st_uid == 0))
        return "is owned by uid " + std::to_string(st.st_uid) + ", not " + owner_text(rule);
    const bool sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !(rule.sticky_ok && sticky))
        return "is writable by group or others";
    return std::nullopt;
}

Result<> check_root_only(int fd, FileKind kind, const char* what, const std::string& shown, OwnerRule rule)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error("cannot stat", shown);
    if (auto problem = ownership_problem(st, kind, rule))
        return error(what, shown, std::move(*problem));
    return {};
}

Result<Fd> ensure_root_directory(const std::string& path, const char* what)
{
    if (path.size() < 2 || path.front() != '/' || path.back() == '/')
        return error(what, path, "must be an absolute path other than '/'");
    const auto slash = path.rfind('/');
    const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = path.substr(slash + 1);
    auto pfd = open_directory(parent);
    if (!pfd)
        return std::unexpected(pfd.error());
    if (::mkdirat(pfd->get(), base.c_str(), 0755) == 0) {
        if (::fchmodat(pfd->get(), base.c_str(), 0755, 0) != 0)
            return sys_error("cannot set the mode of", path);
    } else if (errno != EEXIST) {
        return sys_error("cannot create directory", path);
    }
    auto dir = open_pinned(pfd->get(), base, O_PATH | O_DIRECTORY | O_NOFOLLOW, resolve_beneath, path);
    if (!dir)
        return dir;
    if (auto ok = check_root_only(dir->get(), FileKind::directory, what, path); !ok)
        return std::unexpected(ok.error());
    return dir;
}

} // namespace chos::platform
