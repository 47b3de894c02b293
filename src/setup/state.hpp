// What the last start/reload mounted that the tree itself cannot tell: the targets
// of `bind:` entries (a mount point in the tree does not say whether it came from
// the config or from inside another bind) and the `shared_files:` bound into the
// environments (a file mount inside an environment may be the host's own). reload
// compares it with the new config to unmount the entries that were removed.
//
// Kept in the tree's own tmpfs (<tree>/.chos/setup-state, root-only, 0600), so it
// lives and dies with the tree it describes and no stale copy can outlive it.
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"

#include <string>
#include <vector>

namespace chos::setup {

struct SetupState {
    std::vector<std::string> bind_targets; // absolute paths inside the tree, config order
    std::vector<std::string> shared_files; // the shared_files bound into the environments
};

// Read the state beneath the tree root fd. A missing file is an empty state (a
// tree whose start was interrupted before the first bind).
[[nodiscard]] Result<SetupState> load_state(int tree_root, const std::string& shown_tree);

// Replace the state atomically (write a new file, rename it over the old one).
[[nodiscard]] Result<> save_state(int tree_root, const std::string& shown_tree, const SetupState& state);

} // namespace chos::setup
