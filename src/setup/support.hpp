// What the tree commands share: the run-directory lock, signal blocking, the glue
// between the registry, the link backend and the tree builder.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "link/backend.hpp"
#include "registry/registry.hpp"
#include "setup/commands.hpp"
#include "setup/environments.hpp"
#include "setup/tree.hpp"
#include "setup/trusted_dir.hpp"

#include <csignal>
#include <string>
#include <vector>

namespace chos::setup {

// SIGINT, SIGTERM, SIGHUP and SIGQUIT wait while a command changes mounts, so an
// interrupted start still runs its undo (docs/threat-model.md, class O: signals);
// they are delivered when the command is done. SIGKILL cannot be held: the tree
// marker lets the next start repair what a killed one left.
class BlockedSignals {
public:
    BlockedSignals();
    ~BlockedSignals();
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;

private:
    sigset_t old_{};
};

// Open (creating it 0755 when asked) and validate run_dir (docs/threat-model.md,
// class F: pre-created state), and take its lock: two chos-setup runs never change
// the tree at the same time.
[[nodiscard]] Result<TrustedDirectory> lock_run_dir(const config::Config& config, bool create);

// What the link backend's setup side is given about the tree and where things go.
[[nodiscard]] link::SetupPlace link_place(const Context& context, const Tree& tree, bool already_up);

// Processes registered per environment; an environment without a cgroup has none.
[[nodiscard]] ProcessCounter process_counter(const registry::Registry& registry);

// Environments of the config, then those only the tree still has (removed from
// the config, kept for their processes).
[[nodiscard]] Result<std::vector<std::string>> tree_environment_names(const config::Config& config,
                                                                      const Tree& tree);

} // namespace chos::setup
