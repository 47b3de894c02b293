// The host's side of the tree: the host root at <tree>/local, the config's `bind:`
// entries, and the launcher binaries at <tree>/.chos/bin (docs/architecture.md "The tree").
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "setup/mounts.hpp"
#include "setup/report.hpp"
#include "setup/state.hpp"
#include "setup/tree.hpp"
#include "setup/undo.hpp"

#include <string>

namespace chos::setup {

enum class BindOutcome {
    mounted,       // mounted now
    already,       // the same source was already mounted there
    other_mounted, // something else is mounted there and was left alone
};

// Make sure `target` (relative to the tree root) carries a bind of `source_fd`:
// nothing is done when the mount there already has the source's root inode (a
// repeated start, or a target inside another rbind that brings the same mount).
// Another mount made by setup there (its mount point is on the tree's tmpfs) is
// replaced when `replace_other` is set, else reported as other_mounted; a mount
// inside a bind of the host (an autofs home under /home) is mounted over.
// The mount point is created (directory or empty file, like the source) on the
// tree's tmpfs only. The new mount is recorded in `undo`.
[[nodiscard]] Result<BindOutcome> ensure_bind(const Tree& tree, int source_fd, const std::string& shown_source,
                                              const std::string& target, const BindAttributes& attributes,
                                              bool replace_other, UndoLog& undo);

// <tree>/local: recursive bind of the host root, rslave, nosuid (unless
// local_suid) and nodev. Without `local:` and with remove_stale, it is unmounted.
[[nodiscard]] Result<> mount_local(const Tree& tree, const config::Config& config, bool remove_stale,
                                   UndoLog& undo, BuildReport& report);

// Unmount the targets listed in `state` that left the config's `bind:` (reload),
// and drop them from `state`. Runs before the OS links are made, so a target
// that became an os_dirs entry is free by then.
[[nodiscard]] Result<> remove_stale_binds(const Tree& tree, const config::Config& config, SetupState& state,
                                          BuildReport& report);

// The `bind:` entries: rbind (unless recursive: false), rslave so later host mounts
// (autofs homes) appear inside, nosuid always, nodev unless dev: true. A missing
// optional source is skipped. A different mount of ours on a target is replaced
// when `replace_other` (reload). `state` is updated to what is mounted now.
[[nodiscard]] Result<> mount_binds(const Tree& tree, const config::Config& config, bool replace_other,
                                   SetupState& state, UndoLog& undo, BuildReport& report);

// <tree>/.chos/bin/{chos,chos-run}: binds of the host's installed launcher,
// without nosuid -- the only setuid programs that work inside the tree
// (docs/threat-model.md, class H). Skipped, with a note, when not installed.
[[nodiscard]] Result<> mount_launchers(const Tree& tree, const std::string& launcher_dir, UndoLog& undo,
                                       BuildReport& report);

// The one mount without nosuid must be exactly root's installed binary: a
// root-owned regular file that neither group nor others can write.
[[nodiscard]] Result<> check_launcher(int fd, const std::string& path);

// The launcher binaries setup binds, as installed on the host.
[[nodiscard]] std::vector<std::string> launcher_names();
// launcher_dir empty: CHOS_BINDIR (chos-setup --launchers DIR).
[[nodiscard]] std::string installed_launcher(const std::string& launcher_dir, const std::string& name);

} // namespace chos::setup
