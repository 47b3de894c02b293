// The ordered steps that make a tree (see build.hpp).
#include "setup/build.hpp"

#include "setup/binds.hpp"
#include "setup/environments.hpp"
#include "setup/overlays.hpp"
#include "setup/state.hpp"

namespace chos::setup {

Result<> build_tree(const Tree& tree, const config::Config& config, const BuildOptions& options,
                    const ProcessCounter& count, UndoLog& undo, BuildReport& report)
{
    auto state = load_state(tree.root.get(), tree.path);
    if (!state)
        return std::unexpected(state.error());

    // 1. Directories, "chos" -> "/", and the static OS links (after the binds
    //    that left the config are gone: a name may change from one to the other).
    if (auto ok = make_skeleton(tree); !ok)
        return ok;
    if (auto ok = write_overlay_layers(tree); !ok)
        return ok;
    if (options.remove_stale) {
        if (auto ok = remove_stale_binds(tree, config, *state, report); !ok)
            return ok;
        if (auto ok = save_state(tree.root.get(), tree.path, *state); !ok)
            return ok;
    }
    if (auto ok = sync_os_dirs(tree, config, options.remove_stale, report); !ok)
        return ok;
    // 2. The host root first, while the tree holds no other mount, so its
    //    recursive copy brings nothing of ours along but the (pruned) tmpfs.
    if (auto ok = mount_local(tree, config, options.remove_stale, undo, report); !ok)
        return ok;
    // 3. The shared host directories.
    if (auto ok = mount_binds(tree, config, options.remove_stale, *state, undo, report); !ok)
        return ok;
    if (auto ok = save_state(tree.root.get(), tree.path, *state); !ok)
        return ok;
    // 4. One entry per environment, shared files inside (those that left the config
    //    unbound first).
    if (options.remove_stale)
        if (auto ok = remove_stale_shared_files(tree, config, state->shared_files, report); !ok)
            return ok;
    if (auto ok = sync_environments(tree, config, options.remove_stale, count, options.views_kept, undo, report); !ok)
        return ok;
    state->shared_files = config.shared_files;
    if (auto ok = save_state(tree.root.get(), tree.path, *state); !ok)
        return ok;
    // 5. The launcher, last: the tree is complete before anyone can enter it; the
    //    host commands are links to it.
    if (auto ok = mount_launchers(tree, options.launcher_dir, undo, report); !ok)
        return ok;
    return sync_host_commands(tree, config, options.remove_stale, report);
}

} // namespace chos::setup
