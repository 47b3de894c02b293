// Step 3: who the caller is, from the kernel (ids) and the host's user database
// (name, home, shell: user_db.hpp).
#include "enter/steps.hpp"

#include <cstring>
#include <grp.h>
#include <unistd.h>

namespace chos::enter {

namespace {

Result<> real_groups(config::User& user)
{
    int n = ::getgroups(0, nullptr);
    if (n < 0)
        return sys_error("cannot read the supplementary groups");
    user.groups.resize(static_cast<std::size_t>(n));
    n = ::getgroups(n, user.groups.data());
    if (n < 0)
        return sys_error("cannot read the supplementary groups");
    user.groups.resize(static_cast<std::size_t>(n));
    return {};
}

// The groups a login of this user gets (PAM/SPANK: the process's own are root's).
Result<> database_groups(config::User& user)
{
    int n = 64;
    for (int attempt = 0; attempt < 4; ++attempt) {
        user.groups.resize(static_cast<std::size_t>(n));
        int want = n;
        if (::getgrouplist(user.name.c_str(), user.gid, user.groups.data(), &want) >= 0) {
            user.groups.resize(static_cast<std::size_t>(want));
            return {};
        }
        n = want > n ? want : n * 2;
    }
    return error("cannot read the groups of user", user.name, "group database lookup failed");
}

} // namespace

Result<Identity> resolve_identity(std::optional<uid_t> user)
{
    Identity who;
    // The launcher: real ids (the effective ones are root: never decide from geteuid()).
    who.user.uid = user.value_or(::getuid());
    who.access = user ? UserDbAccess::nss : UserDbAccess::files_then_getent;
    if (!user) {
        who.user.gid = ::getgid();
        if (auto groups = real_groups(who.user); !groups)
            return std::unexpected(groups.error());
    }
    auto entry = passwd_by_uid(who.user.uid, who.access);
    if (!entry)
        return error("cannot resolve user", std::to_string(who.user.uid), "no such user in the password database");
    who.user.name = entry->name;
    who.home = entry->home;
    who.shell = entry->shell;
    if (user) {
        who.user.gid = entry->gid;
        if (auto groups = database_groups(who.user); !groups)
            return std::unexpected(groups.error());
    }
    return who;
}

} // namespace chos::enter
