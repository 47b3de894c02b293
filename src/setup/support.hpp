// What the four tree commands share: messages, the run-directory lock, signal
// blocking, and the glue between the registry and the tree builder.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "registry/registry.hpp"
#include "setup/commands.hpp"
#include "setup/daemon.hpp"
#include "setup/environments.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"
#include "setup/trusted_dir.hpp"

#include <csignal>
#include <string>
#include <vector>

namespace chos::setup {

// "chos-setup: <what>: '<arg>': <reason>" on stderr.
void print_error(const Error& error);
void print_error(const std::string& line);
void print_warning(const std::string& line);

// After the registry is synced: record in run_dir what it resolved to, as a fresh
// open sees it now, for the launchers (Registry::open_recorded). A failure is a
// warning (launches then look it up themselves); false then.
bool record_registry(const config::Config& config, int run_dir_fd);
// Warnings always, notes with --verbose.
void print_report(const BuildReport& report, bool verbose);

// SIGINT, SIGTERM, SIGHUP and SIGQUIT wait while a command changes mounts, so an
// interrupted start still runs its undo (SECURITY.md O); they are delivered when
// the command is done. SIGKILL cannot be held: the tree marker lets the next
// start repair what a killed one left.
class BlockedSignals {
public:
    BlockedSignals();
    ~BlockedSignals();
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;

private:
    sigset_t old_{};
};

// Open (creating it 0755 when asked) and validate run_dir (SECURITY.md F), and
// take its lock: two chos-setup runs never change the tree at the same time.
[[nodiscard]] Result<TrustedDirectory> lock_run_dir(const config::Config& config, bool create);

// kmod trees are not built by chos-setup yet; say so instead of half-working.
[[nodiscard]] Result<> check_backend(const config::Config& config);

[[nodiscard]] std::string linkfs_binary(const Options& options);
[[nodiscard]] DaemonPlace daemon_place(const config::Config& config, const Tree& tree, const Options& options);

// Processes registered per environment; an environment without a cgroup has none.
[[nodiscard]] ProcessCounter process_counter(const registry::Registry& registry);

// Is a file system mounted at exactly this path?
[[nodiscard]] Result<bool> mounted_at(const std::string& path);

// Environments of the config, then those only the tree still has (removed from
// the config, kept for their processes).
[[nodiscard]] Result<std::vector<std::string>> tree_environment_names(const config::Config& config,
                                                                      const Tree& tree);

} // namespace chos::setup
