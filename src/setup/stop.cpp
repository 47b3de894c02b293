// chos-setup stop: take CHOS down, but never under registered processes unless told to
// (chos-setup(8)).
#include "setup/commands.hpp"
#include "setup/guard_daemon.hpp"
#include "setup/images.hpp"
#include "common/layout.hpp"
#include "setup/launcher_state.hpp"
#include "setup/support.hpp"

#include <cerrno>
#include <sys/stat.h>
#include <utility>

namespace chos::setup {

namespace {

// (environment, processes) for every environment that still has some. An environment
// whose count cannot be read is listed with the reason: stopping under processes we
// cannot see is as bad as under those we can.
struct Busy {
    std::vector<std::pair<std::string, std::size_t>> counted;
    std::vector<Error> unknown;
};

Result<Busy> busy_environments(const config::Config& config, const Tree& tree)
{
    Busy busy;
    auto mounted = mounted_at(config.registry.mount);
    if (!mounted)
        return std::unexpected(mounted.error());
    if (!*mounted)
        return busy; // no registry mounted: nobody can be registered
    auto registry = registry::Registry::open(config);
    if (!registry)
        return std::unexpected(registry.error());
    auto names = tree_environment_names(config, tree);
    if (!names)
        return std::unexpected(names.error());
    const ProcessCounter count = process_counter(*registry);
    for (const auto& name : *names) {
        auto n = count(name);
        if (!n)
            busy.unknown.push_back(n.error());
        else if (*n != 0)
            busy.counted.emplace_back(name, *n);
    }
    return busy;
}

// The registry's mount point swapped for a symlink: the registry may still be mounted
// where the real directory went. An error, never "nothing mounted here".
Result<> registry_path_not_swapped(const config::Config& config)
{
    struct stat st {};
    if (::lstat(config.registry.mount.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return error("refusing registry mount point", config.registry.mount,
                     "is a symbolic link (the registry may be mounted where the directory went)");
    return {};
}

Result<> teardown_registry(const config::Config& config)
{
    auto registry = registry::Registry::open(config);
    if (!registry)
        return std::unexpected(registry.error());
    return registry->teardown();
}

// No tree: a stop --force under registered processes leaves the registry mounted (its
// cgroups cannot go while they hold processes): finish that now.
Result<> stop_leftovers(const Context& context, Outcome& out)
{
    const config::Config& config = context.config;
    if (auto ok = registry_path_not_swapped(config); !ok)
        return ok;
    auto run_dir = lock_run_dir(config, false);
    if (run_dir)
        if (auto ok = stop_guard(context, run_dir->fd.get()); !ok)
            return ok;
    withdraw_for_launchers(context, run_dir ? run_dir->fd.get() : -1, out);
    auto mounted = mounted_at(config.registry.mount);
    if (mounted && *mounted) {
        if (auto ok = teardown_registry(config); !ok)
            return ok;
        out.say("'" + config.tree + "' is not set up; removed the registry left at '" + config.registry.mount + "'");
        return {};
    }
    out.say("'" + config.tree + "' is not set up; nothing to stop");
    return {};
}

Result<> take_down(const Context& context, Outcome& out)
{
    const config::Config& config = context.config;
    const bool force = context.options.force;
    auto found = find_tree(config.tree);
    if (!found)
        return std::unexpected(found.error());
    if (!*found)
        return stop_leftovers(context, out);
    auto run_dir = lock_run_dir(config, true);
    if (!run_dir)
        return std::unexpected(run_dir.error());
    const Tree tree = std::move(**found);

    // 1. Refuse while processes are registered: their root is this tree.
    auto busy = busy_environments(config, tree);
    if (!busy) {
        if (!force)
            return std::unexpected(busy.error());
        out.errors.push_back(busy.error().str()); // said, and --force goes on
    } else if (!busy->counted.empty() || !busy->unknown.empty()) {
        // With --force these are only warnings: the admin asked for it.
        auto say = [&](const std::string& line) { force ? out.warn(line) : (void)out.fail(line); };
        for (const auto& [name, n] : busy->counted)
            say("environment '" + name + "': " + std::to_string(n) + (n == 1 ? " process" : " processes") +
                " registered");
        for (const auto& e : busy->unknown)
            say("cannot count processes: " + e.str());
        if (!force)
            return error("cannot stop", tree.path, "processes are still registered (let them exit, or use --force)");
    }

    // 2. The mount guard first: the tree is going.
    if (auto ok = stop_guard(context, run_dir->fd.get()); !ok)
        return ok;

    // 3. The link lets go of the tree and of anything that holds the registry (the
    //    daemon, and with it the FUSE mount; the module's tree).
    auto released = link::for_setup(config).release(link_place(context, tree, true), config);
    if (!released)
        return std::unexpected(released.error());
    out.merge(std::move(*released));

    // 4. The tree, with everything mounted below it, in one lazy unmount: processes
    //    still inside (with --force) keep their view until they exit. The daemon is
    //    gone by now, so no FUSE mount is left dangling in between.
    if (auto ok = detach(tree.root.get(), tree.path); !ok)
        return ok;
    auto again = find_tree(config.tree);
    if (again && *again)
        return error("'" + config.tree + "' still shows a CHOS tree after unmounting (stacked mounts?); run stop again",
                     "", "");
    out.note("unmounted '" + tree.path + "'");

    // 4b. The images' mounts under run_dir (docs/images.md): those no process uses go
    //     (the loop devices clear themselves); one still used stays, and is said.
    {
        BuildReport images;
        auto kept = sweep_image_mounts(config, nullptr, images);
        out.merge(std::move(images));
        if (!kept)
            return std::unexpected(kept.error());
        for (const auto& m : *kept)
            out.warn("image mount '" + config.run_dir + "/" + std::string(layout::images_dir_name) + "/" + m.name +
                     "' stays: " + std::to_string(m.users) + (m.users == 1 ? " process uses" : " processes use") +
                     " it (run 'chos-setup stop' again once they exit)");
    }

    // 5. What the launchers read, then the registry: environment cgroups and the
    //    hierarchy's mount.
    withdraw_for_launchers(context, run_dir->fd.get(), out);
    auto teardown = teardown_registry(config);
    if (!teardown) {
        if (force && teardown.error().err == EBUSY) {
            out.warn(teardown.error().str() + " (left mounted: processes are still registered)");
            return {};
        }
        return teardown;
    }
    return {};
}

} // namespace

Outcome stop(const Context& context)
{
    BlockedSignals signals;
    Outcome out;
    if (auto done = take_down(context, out); !done)
        out.fail(done.error());
    return out;
}

} // namespace chos::setup
