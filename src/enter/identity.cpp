// Step 3: who the caller is, from the kernel (ids) and the host's NSS (name, home).
#include "enter/steps.hpp"

#include <cstring>
#include <grp.h>
#include <pwd.h>
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

    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = ::getpwuid_r(who.user.uid, &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || found == nullptr)
        return error("cannot resolve user", std::to_string(who.user.uid),
                     rc != 0 ? std::strerror(rc) : "no such user in the password database");
    who.user.name = pw.pw_name ? pw.pw_name : "";
    who.home = pw.pw_dir ? pw.pw_dir : "";
    who.shell = pw.pw_shell ? pw.pw_shell : "";
    who.user.gid = user ? pw.pw_gid : ::getgid();
    if (auto groups = user ? database_groups(who.user) : real_groups(who.user); !groups)
        return std::unexpected(groups.error());
    return who;
}

std::optional<gid_t> resolve_group(const std::string& name)
{
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(65536);
    if (::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return gr.gr_gid;
}

} // namespace chos::enter
