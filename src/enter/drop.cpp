// Step 8: drop all of root, all three ids, and verify (bubblewrap CVE-2020-5291,
// Apptainer CVE-2023-38496: a drop that is not checked is a drop that can fail).
#include "enter/steps.hpp"

#include <cerrno>
#include <grp.h>
#include <sys/capability.h>
#include <unistd.h>

namespace chos::enter {

Result<> drop_privileges(const config::User& user)
{
    if (::setgroups(user.groups.size(), user.groups.data()) != 0)
        return sys_error("cannot set the supplementary groups");
    if (::setresgid(user.gid, user.gid, user.gid) != 0)
        return sys_error("cannot set the group id", std::to_string(user.gid));
    if (::setresuid(user.uid, user.uid, user.uid) != 0)
        return sys_error("cannot set the user id", std::to_string(user.uid));

    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0)
        return sys_error("cannot verify the privilege drop");
    if (ru != user.uid || eu != user.uid || su != user.uid || rg != user.gid || eg != user.gid ||
        sg != user.gid)
        return error("privilege drop failed", "", "ids differ after setresuid/setresgid");
    if (user.uid != 0) {
        if (::setuid(0) == 0 || (user.gid != 0 && ::setgid(0) == 0))
            return error("privilege drop failed", "", "root could be regained");
        cap_t caps = ::cap_get_proc();
        if (caps == nullptr)
            return sys_error("cannot verify the privilege drop");
        cap_t empty = ::cap_init();
        int diff = empty ? ::cap_compare(caps, empty) : -1;
        ::cap_free(caps);
        ::cap_free(empty);
        if (diff < 0 || CAP_DIFFERS(diff, CAP_EFFECTIVE) || CAP_DIFFERS(diff, CAP_PERMITTED))
            return error("privilege drop failed", "", "capabilities remain");
    }
    return {};
}

} // namespace chos::enter
