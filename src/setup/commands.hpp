// chos-setup's commands (chos-setup(8)): check, import-legacy, image build, and start | reload |
// stop | status, which build, update, tear down and inspect the tree of
// docs/architecture.md "The tree". Each returns an Outcome; main() prints it, in one
// place (outcome.hpp), and exits with its status.
#pragma once

#include "config/config.hpp"
#include "setup/image_build.hpp" // image build: an environment as one image file
#include "setup/outcome.hpp"

#include <optional>
#include <string>

namespace chos::setup {

struct Options {
    bool force = false;
    bool verbose = false;
    std::string linkfs_path;  // path of chos-linkfs binary; empty = CHOS_SBINDIR "/chos-linkfs"
    std::string launcher_dir; // where chos and chos-run are bound from; empty = CHOS_BINDIR
    std::string guard_path;   // path of chos-guard binary; empty = CHOS_SBINDIR "/chos-guard"
};

// What the tree commands work from: the configuration, the file and exact text it was
// read from (the launchers' snapshot is made of both), the command line.
struct Context {
    const config::Config& config;
    std::string config_path;
    std::string text;
    Options options;
};

// Build the tree (or repair it when it is already there), sync the registry, serve
// the link. Status 1 on failure, with everything this invocation mounted taken back.
[[nodiscard]] Outcome start(const Context& context);

// Apply a changed config to a running tree without disturbing processes in the
// environments that remain. Status 1 when not started or on failure.
[[nodiscard]] Outcome reload(const Context& context);

// Release the link, unmount the tree, tear down the registry. Refused (1) while
// processes are registered, unless options.force. Not started: 0.
[[nodiscard]] Outcome stop(const Context& context);

// Environments, mounts, the link's health, processes per environment.
// Status 0 healthy, 1 degraded, 3 not started (LSB).
[[nodiscard]] Outcome status(const Context& context);

// Validate the configuration at `config_path` and the trees it names (only its
// syntax and rules with `syntax_only`, for an admin's draft anywhere).
[[nodiscard]] Outcome check(const std::string& config_path, bool syntax_only);

// The chos.yaml equivalent of an original CHOS site's /etc/chos and
// /etc/sysconfig/chos (each may be absent unless named explicitly).
[[nodiscard]] Outcome import_legacy(const std::string& chos_path, const std::string& sysconfig_path,
                                    bool chos_given, bool sysconfig_given);

} // namespace chos::setup
