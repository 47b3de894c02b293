// chos-setup status: environments, mounts, daemon health and processes per
// environment (chos-setup(8)). Exit 0 healthy, 1 degraded, 3 not started (the LSB
// convention systemd and init scripts understand).
#include "setup/binds.hpp"
#include "setup/commands.hpp"
#include "setup/kmod.hpp"
#include "setup/mounts.hpp"
#include "setup/support.hpp"

#include <fcntl.h>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr int exit_healthy = 0;
constexpr int exit_degraded = 1;
constexpr int exit_not_started = 3;

const char* registry_type_name(config::RegistryType type)
{
    switch (type) {
    case config::RegistryType::cgroup1:
        return "cgroup1";
    case config::RegistryType::cgroup2:
        return "cgroup2";
    case config::RegistryType::automatic:
        break;
    }
    return "auto";
}

void line(const std::string& label, const std::string& text)
{
    std::cout << std::left << std::setw(10) << (label + ":") << text << "\n";
}

// "a, b, c and 4 more"
std::string short_list(const std::vector<std::string>& items)
{
    constexpr std::size_t shown = 4;
    std::string text;
    for (std::size_t i = 0; i < items.size() && i < shown; ++i)
        text += (i ? ", " : "") + items[i];
    if (items.size() > shown)
        text += " and " + std::to_string(items.size() - shown) + " more";
    return text;
}

// Is the target (relative to the tree) the root of a mount?
std::string mount_state(const Tree& tree, const std::string& relative, bool& ok)
{
    auto fd = open_beneath(tree.root.get(), relative, O_PATH, tree.shown(relative));
    if (!fd) {
        ok = false;
        return fd.error().err == ENOENT ? "missing" : fd.error().str();
    }
    auto mounted = is_mount_root(fd->get(), tree.shown(relative));
    ok = mounted && *mounted;
    return !mounted ? mounted.error().str() : (*mounted ? "mounted" : "not mounted");
}

std::string environment_state(const Tree& tree, const config::Environment* environment, const std::string& name,
                              bool& ok)
{
    auto kind = entry_kind(tree, name);
    ok = false;
    if (!kind)
        return kind.error().str();
    if (environment == nullptr) {
        ok = true; // kept for its processes: expected after a reload
        return *kind == EntryKind::missing ? "removed" : "removed, still present";
    }
    if (environment->is_host()) {
        ok = *kind == EntryKind::host_link;
        return ok ? "linked" : "not linked to the host";
    }
    if (*kind != EntryKind::mounted)
        return *kind == EntryKind::missing ? "missing" : "not mounted";
    auto source = open_environment_tree(*environment, tree);
    if (!source)
        return source.error().str();
    auto entry = open_beneath(tree.root.get(), std::string(os_directory) + "/" + name, O_PATH | O_DIRECTORY,
                              tree.shown(std::string(os_directory) + "/" + name));
    if (!entry)
        return entry.error().str();
    auto same = same_file(entry->get(), source->get());
    ok = same && *same;
    return ok ? "mounted" : "mounted from another path (run reload)";
}

} // namespace

int status(const config::Config& config, const Options& options)
{
    auto found = find_tree(config.tree);
    if (!found) {
        print_error(found.error());
        return exit_degraded;
    }
    if (!*found) {
        std::cout << "chos-setup: '" << config.tree << "' is not set up (run 'chos-setup start')\n";
        return exit_not_started;
    }
    const Tree tree = std::move(**found);
    bool healthy = true;

    line("tree", tree.path + " (mounted)");

    // Registry.
    std::optional<registry::Registry> registry;
    auto registry_mounted = mounted_at(config.registry.mount);
    if (registry_mounted && *registry_mounted) {
        if (auto opened = registry::Registry::open(config)) {
            registry = std::move(*opened);
            line("registry", std::string(registry_type_name(registry->type())) + " name=" +
                                 registry->hierarchy_name() + " at " + registry->mount_point());
        } else {
            line("registry", opened.error().str());
            healthy = false;
        }
    } else {
        line("registry", "not mounted at " + config.registry.mount);
        healthy = false;
    }

    // Daemon (none with the kernel module).
    const bool kmod = uses_kmod(config);
    auto probe = kmod ? Result<DaemonProbe>(DaemonProbe{}) : probe_daemon(daemon_place(config, tree, options));
    if (kmod) {
        const bool mounted = ::access("/proc/chos/version", F_OK) == 0;
        line("daemon", mounted ? "none (kernel module; /proc/chos mounted)" : "none (kernel module): /proc/chos not mounted");
        healthy = healthy && mounted;
    } else if (probe) {
        line("daemon", "chos-linkfs " + describe(*probe));
        healthy = healthy && probe->healthy();
    } else {
        line("daemon", probe.error().str());
        healthy = false;
    }

    // Host side.
    if (config.local) {
        bool ok = false;
        line("local", mount_state(tree, "local", ok));
        healthy = healthy && ok;
    }
    for (const auto& bind : config.binds) {
        bool ok = false;
        std::string state = mount_state(tree, bind.target.substr(1), ok);
        if (!ok && bind.optional && !open_source(bind.source)) {
            state = "skipped (optional, source missing)";
            ok = true;
        }
        line("bind", bind.target + (bind.source != bind.target ? " <- " + bind.source : "") + ": " + state);
        healthy = healthy && ok;
    }
    for (const auto& name : launcher_names()) {
        const std::string installed = installed_launcher(options.launcher_dir, name);
        bool ok = false;
        std::string state = mount_state(tree, ".chos/bin/" + name, ok);
        if (!ok) {
            auto source = open_source(installed);
            if (!source)
                state = "not installed (not bound)";
            else if (auto trusted = check_launcher(source->get(), installed); !trusted)
                state = trusted.error().reason + " (refused, not bound)";
        }
        line("launcher", installed + ": " + state);
    }

    // Every mount under the tree, and which ones lack nosuid or nodev: only dev:
    // binds and the launcher should (SECURITY.md H).
    if (auto mounts = read_mountinfo()) {
        std::size_t count = 0;
        std::vector<std::string> suid, dev;
        for (const auto& m : *mounts) {
            if (m.mount_point != tree.real && !m.mount_point.starts_with(tree.real + "/"))
                continue;
            ++count;
            if (!m.has_option("nosuid"))
                suid.push_back(m.mount_point);
            if (!m.has_option("nodev"))
                dev.push_back(m.mount_point);
        }
        std::string text = std::to_string(count) + " under " + tree.real;
        if (!suid.empty())
            text += "; without nosuid: " + short_list(suid);
        if (!dev.empty())
            text += "; without nodev: " + short_list(dev);
        line("mounts", text);
    } else {
        line("mounts", mounts.error().str());
        healthy = false;
    }

    // Environments.
    auto names = tree_environment_names(config, tree);
    if (!names) {
        print_error(names.error());
        return exit_degraded;
    }
    std::cout << std::left << std::setw(20) << "ENVIRONMENT" << std::setw(6) << "KIND" << std::right
              << std::setw(10) << "PROCESSES" << "  " << std::left << std::setw(24) << "STATE"
              << "PATH\n";
    for (const auto& name : *names) {
        const config::Environment* environment = config.find(name);
        std::string processes = "?";
        std::size_t n = 0;
        if (registry) {
            if (auto counted = process_counter(*registry)(name)) {
                n = *counted;
                processes = std::to_string(n);
            }
        }
        bool ok = false;
        std::string state = environment_state(tree, environment, name, ok);
        if (environment == nullptr)
            state = "removed, " + processes + (n == 1 ? " process" : " processes");
        healthy = healthy && ok;
        const std::string kind = environment == nullptr ? "-" : environment->is_host() ? "host" : "tree";
        std::cout << std::left << std::setw(20) << name << std::setw(6) << kind << std::right << std::setw(10)
                  << processes << "  " << std::left << std::setw(24) << state
                  << (environment ? environment->path : std::string("-")) << "\n";
    }
    std::cout << "state:    " << (healthy ? "healthy" : "degraded") << "\n";
    return healthy ? exit_healthy : exit_degraded;
}

} // namespace chos::setup
