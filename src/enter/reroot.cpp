// Back to the host's view before reading anything (docs/architecture.md "Entering":
// switching from inside).
#include "enter/steps.hpp"

#include "common/fd.hpp"

#include <cerrno>
#include <climits>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::enter {

std::optional<std::string> remember_cwd()
{
    char buf[PATH_MAX];
    // glibc fails with ENOENT rather than return "(unreachable)/..." for a cwd outside
    // the root (runc CVE-2024-21626: a cwd leaked through /proc/self/fd/N).
    if (::getcwd(buf, sizeof buf) == nullptr || buf[0] != '/')
        return std::nullopt;
    return std::string(buf);
}

std::optional<FileId> remember_root()
{
    struct stat st {};
    if (::stat("/", &st) != 0)
        return std::nullopt;
    return FileId{st.st_dev, st.st_ino};
}

Result<bool> reroot_to_host(const std::optional<FileId>& caller_root)
{
    // A caller inside /chos would otherwise have us read the tree's nsswitch.conf,
    // libnss_*.so and config as root (sudo --chroot CVE-2025-32463). setns() into
    // our own mount namespace resets root and cwd to the namespace's root, without
    // needing /proc (which a tree may not have).
    Fd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    if (!self)
        return sys_error("cannot open a pidfd for", "self");
    if (::setns(self.get(), CLONE_NEWNS) != 0)
        return sys_error("cannot re-enter the host mount namespace");
    if (::chdir("/") != 0)
        return sys_error("cannot chdir", "/");
    const auto after = remember_root();
    return caller_root && after && *caller_root != *after;
}

} // namespace chos::enter
