// chos-setup status: environments, mounts, the link's health and processes per
// environment (chos-setup(8)). Exit 0 healthy, 1 degraded, 3 not started (the LSB
// convention systemd and init scripts understand).
#include "common/layout.hpp"
#include "setup/binds.hpp"
#include "setup/commands.hpp"
#include "setup/guard_daemon.hpp"
#include "setup/images.hpp"
#include "setup/mounts.hpp"
#include "setup/support.hpp"

#include <algorithm>
#include <ctime>
#include <fcntl.h>
#include <iomanip>
#include <sstream>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr int exit_healthy = 0;
constexpr int exit_degraded = 1;
constexpr int exit_not_started = 3;

// "label:   text", the labels in one column.
std::string line(const std::string& label, const std::string& text)
{
    std::ostringstream out;
    out << std::left << std::setw(11) << (label + ":") << text << "\n";
    return out.str();
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

std::string environment_state(const config::Config& config, const Tree& tree,
                              const config::Environment* environment, const std::string& name, bool& ok)
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
    if (environment->is_image()) {
        // Served: the gate binds the mount of the file as it is now (images.hpp).
        auto image = open_environment_image(config, *environment);
        if (!image)
            return "refused (see 'chos-setup check')";
        auto mounts = list_image_mounts(config, &tree);
        const std::string current = image_mount_name(name, image->dev, image->ino);
        ok = mounts && std::any_of(mounts->begin(), mounts->end(),
                                   [&](const ImageMount& m) { return m.name == current && m.serving; });
        return ok ? "mounted" : "an older image (run reload)";
    }
    auto source = open_environment_tree(*environment, tree);
    if (!source)
        return source.error().str();
    auto entry = open_beneath(tree.root.get(), layout::gated_tree_of(name), O_PATH | O_DIRECTORY,
                              tree.shown(layout::gated_tree_of(name)));
    if (!entry)
        return entry.error().str();
    auto same = same_file(entry->get(), source->get());
    ok = same && *same;
    return ok ? "mounted" : "mounted from another path (run reload)";
}

} // namespace

Outcome status(const Context& context)
{
    const config::Config& config = context.config;
    Outcome out;
    auto found = find_tree(config.tree);
    if (!found)
        return std::move(out.fail(found.error(), exit_degraded));
    if (!*found) {
        out.say("'" + config.tree + "' is not set up (run 'chos-setup start')");
        out.status = exit_not_started;
        return out;
    }
    const Tree tree = std::move(**found);
    bool healthy = true;
    auto say = [&](const std::string& label, const std::string& text) { out.text.push_back(line(label, text)); };

    say("tree", tree.path + " (mounted)");

    // Registry.
    std::optional<registry::Registry> registry;
    auto registry_mounted = mounted_at(config.registry.mount);
    if (registry_mounted && *registry_mounted) {
        if (auto opened = registry::Registry::open(config)) {
            registry = std::move(*opened);
            say("registry", registry->describe());
        } else {
            say("registry", opened.error().str());
            healthy = false;
        }
    } else {
        say("registry", "not mounted at " + config.registry.mount);
        healthy = false;
    }

    // The link (the daemon, or none with the kernel module).
    const link::Status link = link::for_setup(config).status(link_place(context, tree, true), config);
    for (const auto& [label, text] : link.lines)
        say(label, text);
    healthy = healthy && link.healthy;

    // The mount guard.
    {
        bool ok = false;
        say("guard", guard_status(context, ok));
        healthy = healthy && ok;
    }

    // Host side.
    if (config.local) {
        bool ok = false;
        say("local", mount_state(tree, std::string(layout::host_root), ok));
        healthy = healthy && ok;
    }
    for (const auto& bind : config.binds) {
        bool ok = false;
        std::string state = mount_state(tree, bind.target.substr(1), ok);
        if (!ok && bind.optional && !open_source(bind.source)) {
            state = "skipped (optional, source missing)";
            ok = true;
        }
        say("bind", bind.target + (bind.source != bind.target ? " <- " + bind.source : "") + ": " + state);
        healthy = healthy && ok;
    }
    for (const auto& name : launcher_names()) {
        const std::string installed = installed_launcher(context.options.launcher_dir, name);
        bool ok = false;
        const std::string bound = std::string(layout::launcher_dir) + "/" + name;
        std::string state = mount_state(tree, bound, ok);
        if (ok) {
            // An upgrade replaces the installed file; the tree keeps the old one until
            // reload binds the new one (the package's postinst reloads).
            auto in_tree = open_beneath(tree.root.get(), bound, O_PATH, tree.shown(bound));
            auto source = open_source(installed);
            auto same = in_tree && source ? same_file(in_tree->get(), source->get()) : Result<bool>(false);
            if (!same || !*same) {
                state = source ? "mounted, but not the installed file (upgraded? run 'chos-setup reload')"
                               : "mounted, but no longer installed (run 'chos-setup reload')";
                healthy = false;
            }
        } else {
            auto source = open_source(installed);
            if (!source)
                state = "not installed (not bound)";
            else if (auto trusted = check_launcher(source->get(), installed); !trusted)
                state = trusted.error().reason + " (refused, not bound)";
        }
        say("launcher", installed + ": " + state);
    }

    // Every mount under the tree, and which ones lack nosuid or nodev: only dev: binds
    // and the launcher should (docs/threat-model.md, class H: setuid and devices in trees).
    if (auto mounts = read_mountinfo()) {
        std::size_t count = 0;
        std::vector<std::string> suid, dev;
        for (const auto& m : *mounts) {
            if (m.mount_point != tree.real && !m.mount_point.starts_with(tree.real + "/"))
                continue;
            ++count;
            if (!m.has_mount_option("nosuid"))
                suid.push_back(m.mount_point);
            if (!m.has_mount_option("nodev"))
                dev.push_back(m.mount_point);
        }
        std::string text = std::to_string(count) + " under " + tree.real;
        if (!suid.empty())
            text += "; without nosuid: " + short_list(suid);
        if (!dev.empty())
            text += "; without nodev: " + short_list(dev);
        say("mounts", text);
    } else {
        say("mounts", mounts.error().str());
        healthy = false;
    }

    // Images: the version each environment serves, and old ones processes still use
    // (docs/images.md).
    for (const auto& env : config.environments) {
        if (!env.is_image())
            continue;
        auto image = open_environment_image(config, env);
        if (!image) {
            say("image", env.name + ": " + image.error().str());
            healthy = false;
            continue;
        }
        char when[32] = "?";
        struct tm tm {};
        if (::gmtime_r(&image->mtime.tv_sec, &tm))
            std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        say("image", env.name + ": " + env.image + " (" + std::string(platform::image_type_name(image->type)) +
                         ", inode " + std::to_string(image->ino) + ", mtime " + when + ")");
    }
    if (auto mounts = list_image_mounts(config, &tree)) {
        for (const auto& m : *mounts)
            if (m.mounted && !m.serving)
                say("old image", m.name + ": " + std::to_string(m.users) +
                                     (m.users == 1 ? " process" : " processes") +
                                     (m.users == 0 ? " (the next reload unmounts it)" : ""));
    } else {
        say("images", mounts.error().str());
        healthy = false;
    }

    // Environments.
    auto names = tree_environment_names(config, tree);
    if (!names)
        return std::move(out.fail(names.error(), exit_degraded));
    std::vector<std::string> problems;
    std::ostringstream table;
    table << std::left << std::setw(20) << "ENVIRONMENT" << std::setw(6) << "KIND" << std::right << std::setw(10)
          << "PROCESSES" << "  " << std::left << std::setw(24) << "STATE" << "PATH\n";
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
        std::string state = environment_state(config, tree, environment, name, ok);
        // Can a process be registered there now? (Another instance sharing the registry
        // hierarchy may have removed this one's cgroups.)
        if (environment != nullptr && registry)
            if (auto ready = registry->ready(name); !ready) {
                state = "not in the registry (run 'chos-setup reload')";
                problems.push_back("environment '" + name + "': " + ready.error().str());
                ok = false;
            }
        if (environment == nullptr)
            state = "removed, " + processes + (n == 1 ? " process" : " processes");
        healthy = healthy && ok;
        const std::string kind = environment == nullptr  ? "-"
                                 : environment->is_host() ? "host"
                                 : environment->is_image() ? "image"
                                                           : "tree";
        table << std::left << std::setw(20) << name << std::setw(6) << kind << std::right << std::setw(10)
              << processes << "  " << std::left << std::setw(24) << state
              << (environment ? environment->source() : std::string("-")) << "\n";
    }
    table << "state:    " << (healthy ? "healthy" : "degraded") << "\n";
    out.text.push_back(table.str());
    for (const auto& problem : problems)
        out.warn(problem);
    out.status = healthy ? exit_healthy : exit_degraded;
    return out;
}

} // namespace chos::setup
