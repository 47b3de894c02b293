// chos-setup start and reload: the ordered steps that bring CHOS up (chos-setup(8)),
// one list for both.
//
// start builds the tree, or repairs it when it is there already (start twice is
// harmless, and a start that was killed half-way is finished). reload applies a
// changed configuration to the running tree: new environments appear; removed ones go
// once no process is registered there (the launcher already refuses new launches into
// them: the configuration lacks them); environments that remain are not touched, so
// their processes never notice. What this invocation mounted is taken back when a
// later step fails (the undo log); what a reload removed had no processes and stays
// removed.
#include "setup/build.hpp"
#include "setup/check.hpp"
#include "setup/commands.hpp"
#include "setup/guard_daemon.hpp"
#include "setup/images.hpp"
#include "setup/launcher_state.hpp"
#include "setup/support.hpp"

#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

enum class Mode { start, reload };

// start: the tree found again, or a fresh tmpfs (taken back by `undo`).
Result<Tree> find_or_create_tree(const config::Config& config, UndoLog& undo, Outcome& out)
{
    auto found = find_tree(config.tree);
    if (!found)
        return std::unexpected(found.error());
    if (*found) {
        out.note("'" + (*found)->path + "' is already set up; repairing what is missing");
        return std::move(**found);
    }
    auto created = create_tree(config.tree);
    if (!created)
        return std::unexpected(created.error());
    Tree tree = std::move(created->tree);
    auto mount_point = std::make_shared<TrustedDirectory>(std::move(created->mount_point));
    // The undo step owns its own descriptor of the tree: `tree` is gone by the time the
    // log unwinds.
    auto root = std::make_shared<Fd>(::fcntl(tree.root.get(), F_DUPFD_CLOEXEC, 3));
    undo.add([mount_point, root, shown = tree.path] {
        (void)detach(root->get(), shown);
        if (mount_point->created)
            (void)::unlinkat(mount_point->parent.get(), mount_point->name.c_str(), AT_REMOVEDIR);
    });
    out.note("mounted a tmpfs on '" + tree.path + "'");
    return tree;
}

// reload: the running tree, or an error.
Result<Tree> find_started_tree(const config::Config& config)
{
    auto found = find_tree(config.tree);
    if (!found)
        return std::unexpected(found.error());
    if (!*found)
        return error("cannot reload", config.tree, "not started (run 'chos-setup start')");
    return std::move(**found);
}

Result<> bring_up(const Context& context, Mode mode, Outcome& out)
{
    const config::Config& config = context.config;
    // 0. Exactly what `chos-setup check` refuses, refused here (check.hpp): one line per
    //    problem, check's own words after "refusing to start: ".
    const CheckReport checked = check_system(config);
    for (const auto& warning : checked.warnings)
        out.warn(warning.str());
    if (!checked.errors.empty()) {
        const std::string refusing = mode == Mode::start ? "refusing to start" : "refusing to reload";
        for (std::size_t i = 0; i + 1 < checked.errors.size(); ++i)
            out.fail(refusing + ": " + checked.errors[i].str());
        return error(refusing, "", checked.errors.back().str());
    }
    const link::Backend& link = link::for_setup(config);
    if (auto ok = link.check(config); !ok)
        return ok;

    // 1. The run directory: ours, and locked for the rest of this command.
    auto run_dir = lock_run_dir(config, true);
    if (!run_dir)
        return std::unexpected(run_dir.error());

    // 2. The tree's tmpfs.
    UndoLog undo; // runs, in reverse, on every early return below
    auto tree = mode == Mode::start ? find_or_create_tree(config, undo, out) : find_started_tree(config);
    if (!tree)
        return std::unexpected(tree.error());

    // 3. The registry handle first: counts need it, and opening it early catches a
    //    foreign mount before any work.
    auto registry = registry::Registry::open(config);
    if (!registry)
        return std::unexpected(registry.error());

    // 4. What the link needs before the tree's mounts copy what is mounted.
    if (auto ok = link.prepare(config); !ok)
        return ok;

    // 5. Skeleton, OS links, local, binds, environments, launcher.
    BuildReport report;
    BuildOptions build;
    build.remove_stale = mode == Mode::reload;
    build.launcher_dir = context.options.launcher_dir;
    auto built = build_tree(*tree, config, build, process_counter(*registry), undo, report);
    for (const auto& line : report.refused)
        out.fail(line + " (environment left out; the others are served)");
    if (mode == Mode::reload && built) {
        // Old images no process uses any more go (docs/images.md).
        auto kept = sweep_image_mounts(config, &*tree, report);
        if (!kept)
            return std::unexpected(kept.error());
        for (const auto& m : *kept)
            if (!m.serving)
                report.note("old image '" + m.name + "' kept: " + std::to_string(m.users) +
                            (m.users == 1 ? " process uses it" : " processes use it"));
    }
    out.merge(report);
    if (!built)
        return built;

    // 6. One cgroup per environment (the hierarchy is mounted when it is not).
    auto registry_was_mounted = mounted_at(config.registry.mount);
    if (!registry_was_mounted)
        return std::unexpected(registry_was_mounted.error());
    if (!*registry_was_mounted && registry->hierarchy_exists())
        out.warn("the registry hierarchy 'name=" + config.registry.name + "' exists already, not mounted at " +
                 config.registry.mount + ": another CHOS instance (or one left behind) uses the same " +
                 "registry.name, and its 'stop' would remove this instance's environments; give each " +
                 "instance its own registry.name (chos.yaml(5))");
    if (!*registry_was_mounted) {
        undo.add([&config] {
            if (auto reopened = registry::Registry::open(config))
                (void)reopened->teardown();
        });
    }
    auto busy = registry->sync(config);
    if (!busy)
        return std::unexpected(busy.error());

    // 7. The per-process link: last, so the tree is complete when it answers. A reload
    //    is also how an admin recovers a dead daemon (docs/properties.md, P6).
    auto served = link.serve(link_place(context, *tree, mode == Mode::reload), config);
    if (!served)
        return std::unexpected(served.error());
    out.merge(std::move(*served));

    // 7b. The mount guard: from now on every mount that arrives under the tree is made
    //     as strict as its parent (docs/architecture.md "The mount guard").
    auto guarded = ensure_guard(context, run_dir->fd.get());
    if (!guarded)
        return std::unexpected(guarded.error());
    if (*guarded == GuardAction::started && mode == Mode::reload)
        out.say("started chos-guard (it was not running)");
    else if (*guarded == GuardAction::started)
        out.note("started chos-guard");
    else if (*guarded == GuardAction::restarted)
        out.say("restarted chos-guard (the old one was stopped)");

    // 8. What the launchers read instead of computing, in one step, under the lock.
    publish_for_launchers(context, run_dir->fd.get(), out);
    undo.commit();

    if (mode == Mode::reload) {
        for (const auto& name : report.added_environments)
            out.say("added environment '" + name + "'");
        for (const auto& name : report.updated_images)
            out.say("environment '" + name + "' serves its new image '" + config.find(name)->image +
                    "' (running processes keep the old one)");
        for (const auto& name : report.removed_environments)
            out.say("removed environment '" + name + "'");
        for (const auto& [name, n] : report.kept_environments)
            out.say("environment '" + name + "' removed from the config; kept while " + std::to_string(n) +
                    (n == 1 ? " process is" : " processes are") + " registered there (reload again later)");
    } else {
        for (const auto& name : *busy)
            out.warn("environment '" + name + "' is no longer configured but still has processes");
    }
    return {};
}

Outcome run(const Context& context, Mode mode)
{
    BlockedSignals signals;
    ::umask(022);
    Outcome out;
    if (auto done = bring_up(context, mode, out); !done)
        out.fail(done.error());
    return out;
}

} // namespace

Outcome start(const Context& context)
{
    return run(context, Mode::start);
}

Outcome reload(const Context& context)
{
    return run(context, Mode::reload);
}

} // namespace chos::setup
