// The ordered list of what makes a tree (docs/architecture.md "The tree"), shared by start
// (build or repair) and reload (apply a changed config).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "setup/environments.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"
#include "setup/undo.hpp"

namespace chos::setup {

struct BuildOptions {
    // reload: take out what left the config (never under registered processes).
    // start: only add what is missing.
    bool remove_stale = false;
    // The link backend keeps each running process's view (link::Backend::keeps_views):
    // an environment whose path changed is replaced under its processes.
    bool views_kept = false;
    // Directory of the setuid chos and chos-run bound into .chos/bin (P9); empty: CHOS_BINDIR.
    std::string launcher_dir;
};

// Every step adds only what is missing, so a repeated start is harmless and a
// start after a crash finishes the job. New mounts are recorded in `undo`.
[[nodiscard]] Result<> build_tree(const Tree& tree, const config::Config& config, const BuildOptions& options,
                                  const ProcessCounter& count, UndoLog& undo, BuildReport& report);

} // namespace chos::setup
