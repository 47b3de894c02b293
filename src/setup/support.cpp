// What the four tree commands share (see support.hpp).
#include "setup/support.hpp"

#include "chos_build_config.hpp"
#include "config/names.hpp"
#include "setup/mounts.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

namespace chos::setup {

void print_error(const Error& error)
{
    print_error(error.str());
}

void print_error(const std::string& line)
{
    std::cerr << "chos-setup: " << line << "\n";
}

void print_warning(const std::string& line)
{
    std::cerr << "chos-setup: warning: " << line << "\n";
}

void print_report(const BuildReport& report, bool verbose)
{
    if (verbose)
        for (const auto& note : report.notes)
            std::cout << "chos-setup: " << note << "\n";
    for (const auto& warning : report.warnings)
        print_warning(warning);
}

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

Result<> check_backend(const config::Config& config)
{
    // kmod: the module must be loaded (prepare_kmod in kmod.hpp checks the rest).
    if (config.backend == config::Backend::kmod && ::access("/proc/chos", F_OK) != 0)
        return error("backend 'kmod'", "/proc/chos", "the chos kernel module is not loaded (see chos.ko(4))");
    return {};
}

std::string linkfs_binary(const Options& options)
{
    return options.linkfs_path.empty() ? std::string(CHOS_SBINDIR "/chos-linkfs") : options.linkfs_path;
}

DaemonPlace daemon_place(const config::Config& config, const Tree& tree, const Options& options)
{
    return DaemonPlace{&tree, config.run_dir, linkfs_binary(options), config.source};
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

Result<bool> mounted_at(const std::string& path)
{
    auto mounts = read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    return top_mount_at(*mounts, path) != nullptr;
}

Result<std::vector<std::string>> tree_environment_names(const config::Config& config, const Tree& tree)
{
    std::vector<std::string> names;
    for (const auto& environment : config.environments)
        names.push_back(environment.name);
    auto entries = list_directory(tree, os_directory);
    if (!entries)
        return std::unexpected(entries.error());
    for (const auto& name : *entries)
        if (config.find(name) == nullptr && config::is_valid_environment_name(name))
            names.push_back(name);
    return names;
}

bool record_registry(const config::Config& config, int run_dir_fd)
{
    auto registry = registry::Registry::open(config);
    Result<> ok = registry ? registry->record(run_dir_fd, config.run_dir) : Result<>(std::unexpected(registry.error()));
    if (!ok)
        print_warning(ok.error().str() + " (launches will look the registry up themselves)");
    return ok.has_value();
}

} // namespace chos::setup
