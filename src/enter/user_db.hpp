// The host's user database: who a uid is, which gid a group name has.
//
// Two ways to ask. PAM and SPANK run inside sshd and slurmstepd, dynamic programs:
// they ask NSS in-process (getpwuid_r, getgrnam_r), like their host program does. The
// setuid launcher never loads an NSS module into its privileged process (a static
// binary cannot even do so safely: glibc's static NSS crashes in libnss_systemd): it
// reads /etc/passwd and /etc/group with glibc's own parsers (fgetpwent_r, fgetgrent_r),
// and for a name the files do not have (sssd, LDAP, ...) runs the host's getent as root,
// in a child the caller can neither trace nor signal (as_user.hpp, run_as_root_apart),
// and parses its answer the same way: no process, file or timing of the caller's feeds
// the allow-list or the audit line (docs/threat-model.md, class P). The caller's groups
// are the kernel's (getgroups, identity.cpp), never a lookup. Called after the re-root:
// every file and program is the host's.
#pragma once

#include "config/config.hpp"
#include "config/choice.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace chos::enter {

enum class UserDbAccess {
    nss,               // in-process NSS (PAM, SPANK)
    files_then_getent, // the setuid launcher
};

struct PasswdEntry {
    std::string name;
    gid_t gid = 0;
    std::string home;
    std::string shell;
};

// nullopt: no such user (or the lookup failed: both refuse the launch).
[[nodiscard]] std::optional<PasswdEntry> passwd_by_uid(uid_t uid, UserDbAccess access);

// The allow-list's group names, resolved the same way (a resolver for config::choose).
[[nodiscard]] config::GroupResolver group_resolver(UserDbAccess access);

} // namespace chos::enter
