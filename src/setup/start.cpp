// chos-setup start: the ordered steps that bring CHOS up (chos-setup(8)).
#include "setup/build.hpp"
#include "setup/commands.hpp"
#include "setup/kmod.hpp"
#include "setup/support.hpp"

#include <fcntl.h>
#include <iostream>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

int start(const config::Config& config, const Options& options)
{
    BlockedSignals signals;
    ::umask(022);
    if (auto ok = check_backend(config); !ok) {
        print_error(ok.error());
        return 1;
    }

    // 1. The run directory: ours, and locked for the rest of this command.
    auto run_dir = lock_run_dir(config, true);
    if (!run_dir) {
        print_error(run_dir.error());
        return 1;
    }

    UndoLog undo; // runs, in reverse, on every early return below
    // 2. The tree's tmpfs: found again (start twice is harmless, and a start that
    //    was killed half-way is finished), or made now.
    auto found = find_tree(config.tree);
    if (!found) {
        print_error(found.error());
        return 1;
    }
    Tree tree;
    if (*found) {
        tree = std::move(**found);
        if (options.verbose)
            std::cout << "chos-setup: '" << tree.path << "' is already set up; repairing what is missing\n";
    } else {
        auto created = create_tree(config.tree);
        if (!created) {
            print_error(created.error());
            return 1;
        }
        tree = std::move(created->tree);
        auto mount_point = std::make_shared<TrustedDirectory>(std::move(created->mount_point));
        // The undo step owns its own descriptor of the tree: `tree` is gone by the
        // time the log unwinds.
        auto root = std::make_shared<Fd>(::fcntl(tree.root.get(), F_DUPFD_CLOEXEC, 3));
        const std::string shown = tree.path;
        undo.add([mount_point, root, shown] {
            (void)detach(root->get(), shown);
            if (mount_point->created)
                (void)::unlinkat(mount_point->parent.get(), mount_point->name.c_str(), AT_REMOVEDIR);
        });
        if (options.verbose)
            std::cout << "chos-setup: mounted a tmpfs on '" << tree.path << "'\n";
    }

    // 3. Registry handle first: counts are not needed by start (it removes
    //    nothing) but opening it early catches a foreign mount before any work.
    auto registry = registry::Registry::open(config);
    if (!registry) {
        print_error(registry.error());
        return 1;
    }

    // The module's /proc/chos before the tree binds /proc (kmod backend).
    const bool kmod = uses_kmod(config);
    if (kmod) {
        if (auto ok = prepare_kmod(config); !ok) {
            print_error(ok.error());
            return 1;
        }
    }

    // 4. Skeleton, OS links, local, binds, environments, launcher.
    BuildReport report;
    BuildOptions build;
    build.launcher_dir = options.launcher_dir;
    if (auto ok = build_tree(tree, config, build, process_counter(*registry), undo, report); !ok) {
        print_report(report, options.verbose);
        print_error(ok.error());
        return 1;
    }

    // 5. One cgroup per environment (the hierarchy is mounted when it is not).
    auto registry_was_mounted = mounted_at(config.registry.mount);
    if (!registry_was_mounted) {
        print_error(registry_was_mounted.error());
        return 1;
    }
    if (!*registry_was_mounted) {
        undo.add([&config] {
            if (auto reopened = registry::Registry::open(config))
                (void)reopened->teardown();
        });
    }
    auto busy = registry->sync(config);
    if (!busy) {
        print_error(busy.error());
        return 1;
    }
    const int run_fd = run_dir->fd.get();
    if (record_registry(config, run_fd))
        undo.add([run_fd, &config] { (void)registry::Registry::forget(run_fd, config.run_dir); });

    // 6. The per-process link: last, so the tree is complete when it answers.
    if (kmod) {
        if (auto ok = finish_kmod(tree, config, report); !ok) {
            print_report(report, options.verbose);
            print_error(ok.error());
            return 1;
        }
        undo.commit();
        print_report(report, options.verbose);
        for (const auto& name : *busy)
            print_warning("environment '" + name + "' is no longer configured but still has processes");
        return 0;
    }
    const DaemonPlace place = daemon_place(config, tree, options);
    auto daemon = ensure_daemon(place);
    if (!daemon) {
        print_report(report, options.verbose);
        print_error(daemon.error());
        return 1;
    }

    undo.commit();
    print_report(report, options.verbose);
    if (options.verbose) {
        const char* what = *daemon == DaemonAction::kept      ? "chos-linkfs already running"
                           : *daemon == DaemonAction::started ? "started chos-linkfs"
                                                              : "restarted chos-linkfs (the old one was dead or hung)";
        std::cout << "chos-setup: " << what << "\n";
    } else if (*daemon == DaemonAction::restarted) {
        std::cout << "chos-setup: restarted chos-linkfs (the old one was dead or hung)\n";
    }
    for (const auto& name : *busy)
        print_warning("environment '" + name + "' is no longer configured but still has processes");
    return 0;
}

} // namespace chos::setup
