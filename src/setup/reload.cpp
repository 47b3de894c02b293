// chos-setup reload: apply a changed config to the running tree (chos-setup(8)).
// New environments appear; removed ones go once no process is registered there
// (the launcher already refuses new launches into them: the config lacks them);
// environments that remain are not touched, so their processes never notice.
#include "setup/build.hpp"
#include "setup/commands.hpp"
#include "setup/kmod.hpp"
#include "setup/support.hpp"

#include <iostream>
#include <sys/stat.h>

namespace chos::setup {

int reload(const config::Config& config, const Options& options)
{
    BlockedSignals signals;
    ::umask(022);
    if (auto ok = check_backend(config); !ok) {
        print_error(ok.error());
        return 1;
    }
    auto run_dir = lock_run_dir(config, true);
    if (!run_dir) {
        print_error(run_dir.error());
        return 1;
    }
    auto found = find_tree(config.tree);
    if (!found) {
        print_error(found.error());
        return 1;
    }
    if (!*found) {
        print_error("cannot reload: '" + config.tree + "': not started (run 'chos-setup start')");
        return 1;
    }
    const Tree tree = std::move(**found);

    auto registry = registry::Registry::open(config);
    if (!registry) {
        print_error(registry.error());
        return 1;
    }

    // What this reload added is taken back if a later step fails; what it removed
    // had no processes and stays removed (reload is best effort there).
    UndoLog undo;
    BuildReport report;
    BuildOptions build;
    build.remove_stale = true;
    build.launcher_dir = options.launcher_dir;
    if (auto ok = build_tree(tree, config, build, process_counter(*registry), undo, report); !ok) {
        print_report(report, options.verbose);
        print_error(ok.error());
        return 1;
    }
    // New environments get their cgroup; empty cgroups of removed ones go.
    auto busy = registry->sync(config);
    if (!busy) {
        print_report(report, options.verbose);
        print_error(busy.error());
        return 1;
    }
    (void)record_registry(config, run_dir->fd.get());
    // kmod: the new valid list (new environments settable, removed ones refused).
    const bool kmod = uses_kmod(config);
    if (kmod) {
        if (auto ok = finish_kmod(tree, config, report); !ok) {
            print_report(report, options.verbose);
            print_error(ok.error());
            return 1;
        }
    }
    // A reload is also how an admin recovers a dead daemon (P6).
    auto daemon = kmod ? Result<DaemonAction>(DaemonAction::kept) : ensure_daemon(daemon_place(config, tree, options));
    if (!daemon) {
        print_report(report, options.verbose);
        print_error(daemon.error());
        return 1;
    }
    undo.commit();

    print_report(report, options.verbose);
    for (const auto& name : report.added_environments)
        std::cout << "chos-setup: added environment '" << name << "'\n";
    for (const auto& name : report.removed_environments)
        std::cout << "chos-setup: removed environment '" << name << "'\n";
    for (const auto& [name, n] : report.kept_environments)
        std::cout << "chos-setup: environment '" << name << "' removed from the config; kept while " << n
                  << (n == 1 ? " process is" : " processes are") << " registered there (reload again later)\n";
    if (*daemon == DaemonAction::restarted)
        std::cout << "chos-setup: restarted chos-linkfs (the old one was dead or hung)\n";
    else if (*daemon == DaemonAction::started)
        std::cout << "chos-setup: started chos-linkfs\n";
    return 0;
}

} // namespace chos::setup
