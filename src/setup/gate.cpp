// An environment's gate (see gate.hpp): owner, mode and POSIX ACL from the allow-list,
// with libacl.
#include "setup/gate.hpp"

#include <acl/libacl.h>
#include <algorithm>
#include <cerrno>
#include <grp.h>
#include <memory>
#include <pwd.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace chos::setup {

namespace {

struct AclDeleter {
    void operator()(void* acl) const { ::acl_free(acl); }
};
using Acl = std::unique_ptr<std::remove_pointer_t<acl_t>, AclDeleter>;

Result<> add_entry(acl_t& acl, acl_tag_t tag, const void* qualifier, const std::string& shown)
{
    acl_entry_t entry;
    acl_permset_t perms;
    if (::acl_create_entry(&acl, &entry) != 0 || ::acl_set_tag_type(entry, tag) != 0 ||
        (qualifier && ::acl_set_qualifier(entry, qualifier) != 0) || ::acl_get_permset(entry, &perms) != 0 ||
        ::acl_clear_perms(perms) != 0 || ::acl_add_perm(perms, ACL_EXECUTE) != 0 ||
        ::acl_set_permset(entry, perms) != 0)
        return sys_error("cannot build the access list of", shown);
    return {};
}

} // namespace

Result<> set_gate_access(int gate, const std::string& shown, const config::Environment& environment)
{
    if (::fchown(gate, 0, 0) != 0)
        return sys_error("cannot change the owner of", shown);
    if (!environment.restricted()) {
        // An open gate: the plain mode, and no ACL left from an earlier allow-list.
        Acl acl(::acl_from_mode(0755));
        if (!acl || ::acl_set_fd(gate, acl.get()) != 0)
            return sys_error("cannot set the access list of", shown);
        return {};
    }
    std::vector<uid_t> uids;
    std::vector<gid_t> gids;
    for (const auto& name : environment.users)
        if (const passwd* pw = ::getpwnam(name.c_str()))
            uids.push_back(pw->pw_uid);
    for (const auto& name : environment.groups)
        if (const group* gr = ::getgrnam(name.c_str()))
            gids.push_back(gr->gr_gid);
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    std::erase(uids, 0); // root passes any gate; the owner needs no entry
    std::sort(gids.begin(), gids.end());
    gids.erase(std::unique(gids.begin(), gids.end()), gids.end());
    // user::rwx group::--- other::---, then one entry per uid and gid. The list is
    // freed whatever happens (acl_create_entry may move it: the guard follows it).
    acl_t acl = ::acl_from_mode(0700);
    if (!acl)
        return sys_error("cannot build the access list of", shown);
    struct Free {
        acl_t& acl;
        ~Free() { ::acl_free(acl); }
    } free_acl{acl};
    for (uid_t uid : uids)
        if (auto ok = add_entry(acl, ACL_USER, &uid, shown); !ok)
            return ok;
    for (gid_t gid : gids)
        if (auto ok = add_entry(acl, ACL_GROUP, &gid, shown); !ok)
            return ok;
    if (!uids.empty() || !gids.empty())
        if (auto ok = add_entry(acl, ACL_MASK, nullptr, shown); !ok)
            return ok;
    if (::acl_valid(acl) != 0)
        return error("cannot set the access list of", shown, "the list is not valid");
    if (::acl_set_fd(gate, acl) != 0)
        return sys_error("cannot set the access list of", shown);
    return {};
}

} // namespace chos::setup
