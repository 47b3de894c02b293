// chos-linkfs: serves <tree>/.chos/fs/link, the symlink whose target depends on
// the process that reads it (chos-linkfs(8), docs/architecture.md "The link").
//
// main() is the ordered list of start-up steps, each a call. Requests are served by one
// thread: a multithreaded loop did not help on these 2-core machines
// (docs/benchmarks.md), and one thread makes the cache lock-free. Fairness under a
// flood (docs/threat-model.md, class R): the kernel queues FUSE requests first come,
// first served, so the loop is ours (fair_loop.hpp): it drains the kernel's queue and
// answers the callers' uids in turn, so another user's request waits for one drain and
// one request per active uid, not for every flooding thread's. Each request costs O(1):
// a cache hit ~1 us, a miss one /proc read (~10 us). Log lines about callers are
// rate-limited per uid (log.hpp).
#include "fuse-linkfs/fair_loop.hpp"
#include "fuse-linkfs/fuse_mount.hpp"
#include "fuse-linkfs/leaf_collector.hpp"
#include "fuse-linkfs/link_cache.hpp"
#include "fuse-linkfs/link_resolver.hpp"
#include "fuse-linkfs/linkfs_ops.hpp"
#include "fuse-linkfs/log.hpp"
#include "fuse-linkfs/options.hpp"

#include "chos_build_config.hpp"
#include "common/daemonize.hpp"
#include "common/layout.hpp"
#include "common/own_pid_file.hpp"
#include "common/pid_file.hpp"
#include "config/yaml_config.hpp"
#include "registry/registry.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

#if CHOS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace {

using namespace chos;
using namespace chos::linkfs;

int fail(const Error& e)
{
    log::error("%s", e.str().c_str());
    return 1;
}

void notify(const char* state)
{
#if CHOS_HAVE_SYSTEMD
    (void)::sd_notify(0, state);
#else
    (void)state;
#endif
}

std::optional<config::Config> load(const std::string& path)
{
    try {
        return config::load_config(path);
    } catch (const config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            log::error("%s", d.str().c_str());
    } catch (const std::exception& e) {
        log::error("cannot read the configuration: '%s': %s", path.c_str(), e.what());
    }
    return std::nullopt;
}

// One pidfd per cached process: let the cache use what the hard limit allows,
// keeping some fds for everything else.
std::size_t raise_fd_limit()
{
    constexpr rlim_t reserve = 64;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
        (void)::getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur <= 2 * reserve)
        return 0;
    return std::min<std::size_t>(LinkCache::default_capacity, rl.rlim_cur - reserve);
}

// FUSE names callers by their pid in our pid namespace, and we look them up in
// /proc: both must be the same namespace's, or a caller's number would name
// another process (P8). A /proc mounted for another pid namespace shows it at
// /proc/self.
Result<> check_proc_is_ours()
{
    char buf[32] = {};
    const ssize_t n = ::readlink("/proc/self", buf, sizeof buf - 1);
    if (n <= 0)
        return sys_error("cannot read", "/proc/self");
    if (std::string(buf, static_cast<std::size_t>(n)) != std::to_string(::getpid()))
        return error("refusing to start", "/proc", "it belongs to another pid namespace than chos-linkfs");
    return {};
}

// A stop by signal (SIGTERM from systemd or chos-setup, SIGINT, SIGHUP) is a clean
// exit; libfuse reports the signal number as the loop's result.
bool clean_stop(int loop_result)
{
    return loop_result == 0 || loop_result == SIGTERM || loop_result == SIGINT || loop_result == SIGHUP;
}

} // namespace

int main(int argc, char** argv)
{
    // 1. Options, parsed once.
    auto parsed = parse_options(argc, argv);
    if (parsed.exit_status)
        return *parsed.exit_status;
    const Options& opts = parsed.options;
    log::init(opts.debug);

    // 2. Configuration: only the registry, run_dir and tree matter here.
    auto config = load(opts.config_path);
    if (!config)
        return 1;
    const std::string mount_point =
        opts.mount_point.empty() ? layout::in_tree(config->tree, layout::link_dir) : opts.mount_point;

    // 3. The registry we answer from (never mounts anything).
    auto registry = registry::Registry::open(*config);
    if (!registry)
        return fail(registry.error());

    if (auto ok = check_proc_is_ours(); !ok)
        return fail(ok.error());

    // 4. run_dir checked or created; no other chos-linkfs running.
    auto pid_file = platform::OwnPidFile::prepare(config->run_dir, layout::pid_file_name, platform::linkfs_comm);
    if (!pid_file)
        return fail(pid_file.error());

    // 5. The cache: one pidfd per entry, bounded by the fd limit.
    auto cache = LinkCache::create(raise_fd_limit());
    if (!cache)
        return fail(cache.error());

    // 6. Detach (unless --foreground); errors still reach stderr until ready().
    auto daemon = platform::Daemon::detach(opts.foreground);
    if (!daemon)
        return fail(daemon.error());
    auto give_up = [&](const Error& e) {
        const int status = fail(e);
        daemon->failed();
        return status;
    };

    const std::string registry_text = registry->describe();
    const bool collect_leaves = registry->type() == config::RegistryType::cgroup2;
    const registry::Registry collector_registry = *registry;
    LinkResolver resolver(std::move(*registry), std::move(*cache));
    LinkfsContext context{&resolver, std::time(nullptr)};

    // 7. Mount on the pinned mount point (detaching a dead chos-linkfs mount, P6).
    auto mount = FuseMount::mount(mount_point);
    if (!mount)
        return give_up(mount.error());

    // 8. The libfuse session over our /dev/fuse fd.
    char* fuse_argv[] = {argv[0], nullptr};
    fuse_args args = FUSE_ARGS_INIT(1, fuse_argv);
    const fuse_lowlevel_ops& ops = linkfs_operations();
    fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, &context);
    fuse_opt_free_args(&args); // option parsing may have copied them
    if (se == nullptr)
        return give_up(Error{"cannot create the FUSE session", mount_point, 0, "fuse_session_new failed"});
    const std::string device = "/dev/fd/" + std::to_string(mount->device_fd());
    if (fuse_session_mount(se, device.c_str()) != 0) {
        fuse_session_destroy(se);
        return give_up(Error{"cannot attach the FUSE session", mount_point, 0, "fuse_session_mount failed"});
    }
    mount->release_device(); // the session closes it now
    if (fuse_set_signal_handlers(se) != 0) {
        fuse_session_destroy(se);
        return give_up(Error{"cannot install signal handlers", mount_point, 0, "fuse_set_signal_handlers failed"});
    }

    // 9. The pid file, then tell whoever started us.
    if (auto ok = platform::announce_serving(*daemon, *pid_file, [] { log::use_syslog(); }); !ok) {
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        return give_up(ok.error());
    }
    // cgroup2: empty registration leaves go every minute (docs/architecture.md "The
    // registry").
    std::optional<LeafCollector> collector;
    if (collect_leaves)
        collector.emplace(collector_registry, std::chrono::seconds(60));
    notify("READY=1");
    log::notice("serving %s/link (%s, pid %d)%s", mount_point.c_str(), registry_text.c_str(),
                static_cast<int>(::getpid()), mount->replaced_dead_mount() ? "; replaced a dead mount" : "");

    // 10. Serve until a signal or the unmount.
    const int loop_result = fair_session_loop(se);

    // 11. Clean up: pid file first (the launcher stops starting launches), then the mount.
    notify("STOPPING=1");
    fuse_remove_signal_handlers(se);
    pid_file->remove();
    int status = clean_stop(loop_result) ? 0 : 1;
    if (auto ok = mount->unmount(); !ok)
        status = fail(ok.error());
    fuse_session_destroy(se);
    log::notice("stopped (cache held %zu entries)", resolver.cache().size());
    return status;
}
