// Step 3: who the caller is, from the kernel (ids) and the host's NSS (name, home).
#include "enter/steps.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace chos::enter {

Result<Identity> resolve_identity()
{
    Identity who;
    // Real ids: the effective ones are root (setuid); never decide from geteuid().
    who.user.uid = ::getuid();
    who.user.gid = ::getgid();
    int n = ::getgroups(0, nullptr);
    if (n < 0)
        return sys_error("cannot read the supplementary groups");
    who.user.groups.resize(static_cast<std::size_t>(n));
    n = ::getgroups(n, who.user.groups.data());
    if (n < 0)
        return sys_error("cannot read the supplementary groups");
    who.user.groups.resize(static_cast<std::size_t>(n));

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
