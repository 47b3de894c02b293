// The environments' side of the tree (common/layout.hpp): <tree>/.chos/os/<env>, a
// nosuid,nodev rbind of each environment's tree (shared_files bound on top of the
// matching files inside it), or a symlink to ../../local for an environment whose
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

// What <tree>/.chos/os/<name> is now.
enum class EntryKind {
    missing,
    host_link,  // symlink to ../../local
    other_link, // some other symlink
    mounted,    // a directory with a mount on it
    directory,  // a directory with nothing mounted
    other,      // anything else
};
[[nodiscard]] Result<EntryKind> entry_kind(const Tree& tree, const std::string& name);

// Make every configured environment present. Without remove_stale (start) an entry
// that does not match the config (another path, host <-> tree) is reported and
// left alone; with remove_stale (reload) it is replaced when no process is
// registered in it, and entries of environments that left the config are removed
// -- or kept, while processes are registered there (report.kept_environments).
[[nodiscard]] Result<> sync_environments(const Tree& tree, const config::Config& config, bool remove_stale,
                                         const ProcessCounter& count, UndoLog& undo, BuildReport& report);

} // namespace chos::setup
