// chos-setup start | stop | reload | status (chos-setup(8)): build, tear down,
// update and inspect the tree of HACKING.md "The tree". Each returns the exit
// status and prints its own messages (one line each: "chos-setup: <what>:
// '<arg>': <reason>"); main() only parses options and loads the config.
#pragma once

#include "config/config.hpp"

#include <string>

namespace chos::setup {

struct Options {
    bool force = false;
    bool verbose = false;
    std::string linkfs_path; // path of chos-linkfs binary; empty = CHOS_SBINDIR "/chos-linkfs"
    std::string launcher_dir; // where chos and chos-run are bound from; empty = CHOS_BINDIR
};

// Build the tree (or repair it when it is already there), sync the registry, make
// sure chos-linkfs runs. 0 on success; 1 on failure, with everything this
// invocation mounted taken back.
int start(const chos::config::Config& config, const Options& options);

// Stop chos-linkfs, unmount the tree, tear down the registry. Refused (1) while
// processes are registered, unless options.force. Not started: 0.
int stop(const chos::config::Config& config, const Options& options);

// Apply a changed config to a running tree without disturbing processes in the
// environments that remain. 1 when not started or on failure.
int reload(const chos::config::Config& config, const Options& options);

// Environments, mounts, daemon health, processes per environment.
// 0 healthy, 1 degraded, 3 not started (LSB).
int status(const chos::config::Config& config, const Options& options);

} // namespace chos::setup
