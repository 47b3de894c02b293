// host_commands (chos.yaml(5)): a host program run from inside an environment, such as
// Slurm's srun from a batch script in bullseye. The launcher is reached as
// /.chos/bin/<name> (a link to chos-run that chos-setup makes) and enter() runs these
// steps in place of 4-7 (docs/architecture.md "Entering: host commands"): no choice, no
// registration and no chroot -- the process keeps its registration and $CHOS, so what
// the program starts (a job step) stays in the caller's environment; it runs from the
// host's view, where reroot_to_host() left it.
#include "enter/steps.hpp"

#include "chos_build_config.hpp"
#include "config/names.hpp"

#include <sys/stat.h>

namespace chos::enter {

namespace {

// Where a host command given by name is looked for: the host's system directories,
// never the caller's PATH (it names directories of the environment's tree).
constexpr const char* host_search_path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

std::optional<FileId> id_of(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return FileId{st.st_dev, st.st_ino};
}

} // namespace

Result<HostCommand> host_command(const config::Config& config, const std::string& name,
                                 const CallerState& caller)
{
    const std::string* entry = config.find_host_command(name);
    if (entry == nullptr)
        return error("'" + config::quote_for_message(name) + "' is not a host command", "",
                     "not in host_commands of " CHOS_CONFIG_PATH "; run chos or chos-run by their names");
    HostCommand command;
    command.program = *entry;
    command.search_path = host_search_path;
    command.cwd = caller.cwd;
    if (caller.cwd && caller.root && id_of(config.tree) == caller.root)
        command.cwd_in_tree = *caller.cwd == "/" ? config.tree : config.tree + *caller.cwd;
    return command;
}

std::optional<std::string> host_working_directory(const HostCommand& command)
{
    // Inside the tree, the caller's "/x" is "<tree>/x" on the host: the same directory
    // (a bind, or the caller's environment through the link, which still answers for
    // this process). "/x" itself when that is the same directory on the host (a bind
    // whose target is its source: the program and a job step see the caller's path).
    if (!command.cwd_in_tree)
        return command.cwd;
    const auto id = id_of(*command.cwd_in_tree);
    if (id && command.cwd && id_of(*command.cwd) == id)
        return command.cwd;
    return command.cwd_in_tree;
}

} // namespace chos::enter
