// The environments' side of the tree (common/layout.hpp): <tree>/.chos/os/<env>, a
// symlink through the environment's gate (setup/gate.hpp) to <tree>/.chos/gate/<env>/tree,
// a nosuid,nodev rbind of the environment's tree (shared_files bound on top of the
// matching files inside it); or a symlink to ../../local for an environment whose
// path is "/".
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"
#include "setup/undo.hpp"

#include <cstddef>
#include <functional>
#include <string>

namespace chos::setup {

// How many processes are registered in an environment (the registry's count,
// with a missing environment cgroup counting as 0).
using ProcessCounter = std::function<Result<std::size_t>(const std::string& environment)>;

// Refuse an environment tree that is not a root-owned directory unwritable by
// group and others (docs/threat-model.md, class H: setuid and devices in trees; Apptainer
// CVE-2023-30549): whoever can write it could plant what root later runs. Returns the
// pinned tree.
[[nodiscard]] Result<Fd> open_environment_tree(const config::Environment& environment, const Tree& tree);

// What the environment's entry is now: <tree>/.chos/os/<name> and, through its gate,
// <tree>/.chos/gate/<name>/tree.
enum class EntryKind {
    missing,
    host_link,  // symlink to ../../local
    other_link, // some other symlink
    mounted,    // the tree in its gate has a mount on it
    directory,  // the gate's tree has nothing mounted (or the link leads nowhere)
    other,      // anything else (a tree mounted without a gate: replaced by reload)
};
[[nodiscard]] Result<EntryKind> entry_kind(const Tree& tree, const std::string& name);

// Make every configured environment present. Without remove_stale (start) an entry
// that does not match the config (another path, host <-> tree) is reported and
// left alone; with remove_stale (reload) it is replaced when no process is
// registered in it -- or at once when `views_kept` (the link backend keeps each running
// process's view of the tree it entered: namespace) -- and entries of environments that left the config are removed
// -- or kept, while processes are registered there (report.kept_environments).
// reload: the binds of shared files that were in `bound_before` (the setup state) and
// left the config are taken out of every mounted environment -- only where the mount
// there is that very host file.
[[nodiscard]] Result<> remove_stale_shared_files(const Tree& tree, const config::Config& config,
                                                 const std::vector<std::string>& bound_before,
                                                 BuildReport& report);

[[nodiscard]] Result<> sync_environments(const Tree& tree, const config::Config& config, bool remove_stale,
                                         const ProcessCounter& count, bool views_kept, UndoLog& undo,
                                         BuildReport& report);

} // namespace chos::setup
