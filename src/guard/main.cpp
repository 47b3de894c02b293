// chos-guard: the mount guard's daemon (chos-guard(8); docs/architecture.md "The mount
// guard"). chos-setup start runs it, stop ends it, status shows it. It watches the host's
// mount namespace beneath the configuration's `tree:`, the namespaces of the link backend's
// own (link::Backend::guarded_trees: with `backend: namespace`, each environment's, held
// by chos-nsd), and each --namespace NSFILE:ROOT given, and makes every mount that arrives there nosuid,nodev as its parent mount is
// (guard/plan.hpp). Single-threaded on purpose: it setns(2)s into the namespaces it
// watches.
//
// The pid file <run_dir>/guard.pid (common/own_pid_file.hpp) is written once the first
// pass is done, then the parent exits 0 (common/daemonize.hpp): when chos-setup start
// returns, the guard is watching. SIGTERM, SIGINT, SIGHUP: a clean exit, pid file removed.
#include "chos_build_config.hpp"
#include "common/daemonize.hpp"
#include "common/layout.hpp"
#include "common/own_pid_file.hpp"
#include "common/pid_file.hpp"
#include "config/yaml_config.hpp"
#include "guard/mount_guard.hpp"
#include "link/backend.hpp"

#include <boost/program_options.hpp>

#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <sched.h>
#include <set>
#include <string>
#include <sys/signalfd.h>
#include <syslog.h>
#include <vector>

namespace po = boost::program_options;
using namespace chos;

namespace {

bool use_syslog = false;

void say(int priority, const char* format, ...) __attribute__((format(printf, 2, 3)));
void say(int priority, const char* format, ...)
{
    va_list ap;
    va_start(ap, format);
    if (use_syslog) {
        ::vsyslog(priority, format, ap);
    } else {
        std::fputs("chos-guard: ", stderr);
        std::vfprintf(stderr, format, ap);
        std::fputc('\n', stderr);
    }
    va_end(ap);
}

int fail(const Error& e)
{
    say(LOG_ERR, "%s", e.str().c_str());
    return 1;
}

// What a pass did, said once: a fix is a notice; a failure a warning, once per mount
// point until it is fixed (a pass repeats every retry interval meanwhile).
class PassLog {
public:
    void report(const guard::Pass& pass)
    {
        for (const auto& a : pass.applied) {
            say(LOG_NOTICE, "made '%s' %s (it arrived after the start)", a.mount_point.c_str(),
                guard::describe_attributes(a.set).c_str());
            warned_.erase(a.mount_point);
        }
        for (const auto& e : pass.failed)
            if (warned_.insert(e.argument).second)
                say(LOG_WARNING, "%s (retrying)", e.str().c_str());
    }

private:
    std::set<std::string> warned_;
};

struct Watch {
    std::string ns_file;
    std::string root;
};

} // namespace

int main(int argc, char** argv)
{
    std::string config_path = CHOS_CONFIG_PATH;
    std::vector<std::string> namespaces;
    bool foreground = false;
    po::options_description visible("usage: chos-guard [OPTIONS]\n\noptions");
    visible.add_options()
        ("help,h", "show this help")
        ("version", "show the version")
        ("config,c", po::value(&config_path), "configuration file (default " CHOS_CONFIG_PATH ")")
        ("namespace", po::value(&namespaces), "also watch the mount namespace NSFILE beneath ROOT (NSFILE:ROOT)")
        ("foreground,f", po::bool_switch(&foreground), "do not detach");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(visible).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "chos-guard: " << e.what() << " (see 'chos-guard --help')\n";
        return 1;
    }
    if (vm.count("help")) {
        std::cout << visible;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "chos-guard " CHOS_VERSION "\n";
        return 0;
    }
    std::vector<Watch> extra;
    for (const auto& spec : namespaces) {
        const auto colon = spec.find(':');
        if (colon == std::string::npos || colon == 0 || spec.size() <= colon + 1 || spec[colon + 1] != '/') {
            std::cerr << "chos-guard: --namespace wants NSFILE:/ROOT, not '" << spec << "'\n";
            return 1;
        }
        extra.push_back({spec.substr(0, colon), spec.substr(colon + 1)});
    }

    // 1. The configuration: only tree and run_dir matter here.
    config::Config config;
    try {
        config = config::load_config(config_path);
    } catch (const config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            say(LOG_ERR, "%s", d.str().c_str());
        return 1;
    } catch (const std::exception& e) {
        say(LOG_ERR, "cannot read the configuration: '%s': %s", config_path.c_str(), e.what());
        return 1;
    }

    // 2. run_dir checked; no other chos-guard running.
    auto pid_file = platform::OwnPidFile::prepare(config.run_dir, layout::guard_pid_file_name, platform::guard_comm);
    if (!pid_file)
        return fail(pid_file.error());

    // 3. Signals as a descriptor, polled with the namespaces.
    sigset_t stops;
    ::sigemptyset(&stops);
    for (int s : {SIGTERM, SIGINT, SIGHUP})
        ::sigaddset(&stops, s);
    ::sigprocmask(SIG_BLOCK, &stops, nullptr);
    Fd signals(::signalfd(-1, &stops, SFD_CLOEXEC));
    if (!signals)
        return fail(Error{"cannot create a signalfd", "", errno, ""});

    // 4. Detach; errors still reach stderr until ready().
    auto daemon = platform::Daemon::detach(foreground);
    if (!daemon)
        return fail(daemon.error());
    auto give_up = [&](const Error& e) {
        const int status = fail(e);
        daemon->failed();
        return status;
    };

    // 5. The namespaces: the host's (ours) first, with the tree, then the backend's and
    //    --namespace's; one pass each.
    auto guard = guard::MountGuard::create();
    if (!guard)
        return give_up(guard.error());
    PassLog log;
    {
        Fd own(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
        if (!own)
            return give_up(Error{"cannot open", "/proc/self/ns/mnt", errno, ""});
        auto first = guard->add(std::move(own), config.tree);
        if (!first)
            return give_up(first.error());
        log.report(*first);
    }
    auto backend_trees = link::for_setup(config).guarded_trees(config);
    if (!backend_trees)
        return give_up(backend_trees.error());
    for (auto& t : *backend_trees) {
        auto first = guard->add(std::move(t.ns), t.root);
        if (!first)
            return give_up(first.error());
        log.report(*first);
    }
    for (const auto& w : extra) {
        Fd ns(::open(w.ns_file.c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns)
            return give_up(Error{"cannot open mount namespace", w.ns_file, errno, ""});
        auto first = guard->add(std::move(ns), w.root);
        if (!first)
            return give_up(first.error());
        log.report(*first);
    }

    // 6. The pid file, then tell whoever started us.
    auto to_syslog = [] {
        ::openlog("chos-guard", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        use_syslog = true;
    };
    if (auto ok = platform::announce_serving(*daemon, *pid_file, to_syslog); !ok)
        return give_up(ok.error());
    say(LOG_NOTICE, "watching %zu mount namespace%s beneath %s (pid %d)", guard->size(),
        guard->size() == 1 ? "" : "s", config.tree.c_str(), static_cast<int>(::getpid()));

    // 7. The window between a host's mount and our pass is a race an exec can win
    //    (docs/threat-model.md, class Q): on a busy machine the wake-up waits for a CPU,
    //    so the guard runs SCHED_FIFO at the lowest real-time priority -- its work per
    //    event is one mountinfo read and a few system calls, and the kernel's real-time
    //    throttling bounds it even under a storm of mounts (benchmarks.md W10).
    sched_param rt{};
    rt.sched_priority = 1;
    if (::sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) != 0)
        say(LOG_NOTICE, "cannot run SCHED_FIFO (%s): the window is longer on a busy machine", std::strerror(errno));

    // 8. Until a signal: a pass per namespace that reports a change; passes that left
    //    something unfixed are retried every retry_ms.
    constexpr int retry_ms = 100;
    std::vector<pollfd> fds(guard->size() + 1);
    fds[0] = {signals.get(), POLLIN, 0};
    for (std::size_t i = 0; i < guard->size(); ++i)
        fds[i + 1] = {guard->poll_fd(i), POLLPRI, 0};
    std::vector<bool> pending(guard->size(), false);
    int status = 0;
    for (;;) {
        bool retry = false;
        for (bool p : pending)
            retry = retry || p;
        const int n = ::poll(fds.data(), fds.size(), retry ? retry_ms : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            status = fail(Error{"cannot poll", "", errno, ""});
            break;
        }
        if (fds[0].revents & POLLIN)
            break;
        for (std::size_t i = 0; i < guard->size(); ++i) {
            if (!(fds[i + 1].revents & (POLLPRI | POLLERR)) && !pending[i])
                continue;
            auto done = guard->pass(i);
            if (!done) {
                log.report(guard::Pass{{}, {done.error()}});
                pending[i] = true;
                continue;
            }
            log.report(*done);
            pending[i] = !done->failed.empty();
        }
    }

    // 9. Clean up.
    pid_file->remove();
    say(LOG_NOTICE, "stopped");
    return status;
}
