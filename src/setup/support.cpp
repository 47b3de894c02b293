// What the four tree commands share (see support.hpp).
#include "setup/support.hpp"

#include "chos_build_config.hpp"
#include "common/layout.hpp"
#include "config/names.hpp"
#include "setup/mounts.hpp"

#include <cerrno>
#include <chrono>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace chos::setup {

BlockedSignals::BlockedSignals()
{
    sigset_t set;
    ::sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, &old_);
}

BlockedSignals::~BlockedSignals()
{
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

Result<TrustedDirectory> lock_run_dir(const config::Config& config, bool create)
{
    auto dir = open_trusted_directory(config.run_dir, create);
    if (!dir)
        return dir;
    // Bounded wait: a chos-setup stuck on a hung mount must not block the next
    // one forever.
    using namespace std::chrono_literals;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (::flock(dir->fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return sys_error("cannot lock", config.run_dir);
        if (std::chrono::steady_clock::now() >= deadline)
            return error("cannot lock", config.run_dir, "another chos-setup is running");
        std::this_thread::sleep_for(50ms);
    }
    return dir;
}

link::SetupPlace link_place(const Context& context, const Tree& tree, bool already_up)
{
    link::SetupPlace place;
    place.tree_root = tree.root.get();
    place.tree = tree.path;
    place.tree_real = tree.real;
    place.run_dir = context.config.run_dir;
    place.linkfs = context.options.linkfs_path.empty() ? std::string(CHOS_SBINDIR "/chos-linkfs")
                                                        : context.options.linkfs_path;
    place.config_source = context.config.source;
    place.already_up = already_up;
    return place;
}

ProcessCounter process_counter(const registry::Registry& registry)
{
    return [&registry](const std::string& environment) -> Result<std::size_t> {
        auto n = registry.count(environment);
        if (!n && n.error().err == ENOENT)
            return std::size_t{0};
        return n;
    };
}

Result<std::vector<std::string>> tree_environment_names(const config::Config& config, const Tree& tree)
{
    std::vector<std::string> names;
    for (const auto& environment : config.environments)
        names.push_back(environment.name);
    auto entries = list_directory(tree, std::string(layout::os_dir));
    if (!entries)
        return std::unexpected(entries.error());
    for (const auto& name : *entries)
        if (config.find(name) == nullptr && config::is_valid_environment_name(name))
            names.push_back(name);
    return names;
}

} // namespace chos::setup
