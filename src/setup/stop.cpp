// chos-setup stop: take CHOS down, but never under registered processes unless
// told to (chos-setup(8)).
#include "setup/commands.hpp"
#include "setup/kmod.hpp"
#include "setup/support.hpp"

#include <cerrno>
#include <iostream>
#include <sys/stat.h>
#include <utility>

namespace chos::setup {

namespace {

// (environment, processes) for every environment that still has some. An
// environment whose count cannot be read is listed with the reason: stopping
// under processes we cannot see is as bad as under those we can.
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

// The registry's mount point swapped for a symlink (class C): the registry may still
// be mounted where the real directory went. An error, never "nothing mounted here".
Result<> registry_path_not_swapped(const config::Config& config)
{
    struct stat st {};
    if (::lstat(config.registry.mount.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return error("refusing registry mount point", config.registry.mount,
                     "is a symbolic link (the registry may be mounted where the directory went)");
    return {};
}

} // namespace

int stop(const config::Config& config, const Options& options)
{
    BlockedSignals signals;
    auto found = find_tree(config.tree);
    if (!found) {
        print_error(found.error());
        return 1;
    }
    if (!*found) {
        // A stop --force under registered processes leaves the registry mounted
        // (its cgroups cannot go while they hold processes): finish that now.
        if (auto ok = registry_path_not_swapped(config); !ok) {
            print_error(ok.error());
            return 1;
        }
        auto mounted = mounted_at(config.registry.mount);
        if (mounted && *mounted) {
            auto registry = registry::Registry::open(config);
            Result<> teardown = registry ? registry->teardown() : Result<>(std::unexpected(registry.error()));
            if (!teardown) {
                print_error(teardown.error());
                return 1;
            }
            std::cout << "chos-setup: '" << config.tree << "' is not set up; removed the registry left at '"
                      << config.registry.mount << "'\n";
            return 0;
        }
        std::cout << "chos-setup: '" << config.tree << "' is not set up; nothing to stop\n";
        return 0;
    }
    auto run_dir = lock_run_dir(config, true);
    if (!run_dir) {
        print_error(run_dir.error());
        return 1;
    }
    const Tree tree = std::move(**found);

    // 1. Refuse while processes are registered: their root is this tree.
    auto busy = busy_environments(config, tree);
    if (!busy) {
        print_error(busy.error());
        if (!options.force)
            return 1;
    } else if (!busy->counted.empty() || !busy->unknown.empty()) {
        // With --force these are only warnings: the admin asked for it.
        auto say = [&](const std::string& line) { options.force ? print_warning(line) : print_error(line); };
        for (const auto& [name, n] : busy->counted)
            say("environment '" + name + "': " + std::to_string(n) + (n == 1 ? " process" : " processes") +
                " registered");
        for (const auto& e : busy->unknown)
            say("cannot count processes: " + e.str());
        if (!options.force) {
            print_error("cannot stop: '" + tree.path +
                        "': processes are still registered (let them exit, or use --force)");
            return 1;
        }
    }

    // 2. The daemon, and with it the FUSE mount.
    const DaemonPlace place = daemon_place(config, tree, options);
    if (auto ok = stop_daemon(place); !ok) {
        print_error(ok.error());
        return 1;
    }
    if (options.verbose)
        std::cout << "chos-setup: stopped chos-linkfs\n";

    // kmod: the module keeps the tree's directory to compare readers' roots with.
    if (auto ok = release_kmod(config); !ok)
        print_warning(ok.error().str() + " (the module keeps the unmounted tree until /proc/chos is unmounted)");

    // 3. The tree, with everything mounted below it, in one lazy unmount: processes
    //    still inside (with --force) keep their view until they exit. The daemon
    //    is gone by now, so no FUSE mount is left dangling in between.
    if (auto ok = detach(tree.root.get(), tree.path); !ok) {
        print_error(ok.error());
        return 1;
    }
    auto again = find_tree(config.tree);
    if (again && *again) {
        print_error("'" + config.tree + "' still shows a CHOS tree after unmounting (stacked mounts?); run stop again");
        return 1;
    }
    if (options.verbose)
        std::cout << "chos-setup: unmounted '" << tree.path << "'\n";

    // 4. The registry: environment cgroups and the hierarchy's mount.
    if (auto ok = registry::Registry::forget(run_dir->fd.get(), config.run_dir); !ok)
        print_warning(ok.error().str());
    auto registry = registry::Registry::open(config);
    Result<> teardown = registry ? registry->teardown() : Result<>(std::unexpected(registry.error()));
    if (!teardown) {
        if (options.force && teardown.error().err == EBUSY) {
            print_warning(teardown.error().str() + " (left mounted: processes are still registered)");
            return 0;
        }
        print_error(teardown.error());
        return 1;
    }
    return 0;
}

} // namespace chos::setup
