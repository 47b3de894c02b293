// Step 7: into the shared tree (non-host environments) or stay at the host's root.
#include "enter/steps.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace chos::enter {

Result<> enter_root(const config::Config& config, const config::Environment& env)
{
    if (env.is_host())
        return {}; // reroot_to_host() already put us at the namespace's root
    // chdir then chroot("."): no window where root and cwd disagree.
    if (::chdir(config.tree.c_str()) != 0)
        return sys_error("cannot enter the tree", config.tree);
    if (::chroot(".") != 0)
        return sys_error("cannot chroot to the tree", config.tree);
    if (::chdir("/") != 0)
        return sys_error("cannot chdir in the tree", "/");
    return {};
}

std::string enter_working_directory(const std::optional<std::string>& cwd, const std::string& home)
{
    // Done after the drop: chdir with the user's rights, so the launcher never puts
    // the user in a directory they could not have entered themselves.
    if (cwd && ::chdir(cwd->c_str()) == 0)
        return *cwd;
    if (!home.empty() && ::chdir(home.c_str()) == 0)
        return home;
    if (::chdir("/") == 0)
        return "/";
    return "";
}

} // namespace chos::enter
