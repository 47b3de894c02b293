// The kernel module's interface (chos.ko(4)): /proc/chos/{link,setlink,valid,version},
// a filesystem of the module mounted on the proc mount point /proc/chos.
//
// With `backend: kmod` the module's filesystem is also mounted on the tree's
// `.chos/fs`, so the OS links "<d>" -> ".chos/fs/link/<d>" (the same as with
// chos-linkfs) reach the module's link directly, and the module answers each reader
// with the target its launcher set: "<tree>/.chos/os/<env>" from the host's view,
// and "/.chos/os/<env>" to a reader whose root is the tree (chrooted into it;
// chos-setup writes the tree's path to /proc/chos/tree), which skips the walk back
// through "<tree name> -> /". The long form still resolves inside the chroot
// through that link (for the default tree /chos, the "chos -> /" link every tree
// has). Unregistered readers get the first line of /proc/chos/valid, "<tree>/local"
// (or "/local"): the host, as with chos-linkfs.
// The kmod backend (kmod.cpp) is this interface's only user besides the unit tests.
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"

#include <string>
#include <vector>

namespace chos::link::kmod {

inline constexpr const char* proc_dir = "/proc/chos";
inline constexpr const char* link_path = "/proc/chos/link";
inline constexpr const char* setlink_path = "/proc/chos/setlink";
inline constexpr const char* valid_path = "/proc/chos/valid";
inline constexpr const char* version_path = "/proc/chos/version";
inline constexpr const char* tree_path = "/proc/chos/tree";

// The module is loaded: its mount point /proc/chos exists.
[[nodiscard]] bool loaded();
// ... and its filesystem is mounted there (chos-setup does that).
[[nodiscard]] bool mounted();

// Mount the module's filesystem on /proc/chos unless it is there already.
[[nodiscard]] Result<> mount_proc();

// The target a process registered in `environment` reads: "<tree>/.chos/os/<env>".
[[nodiscard]] std::string target_for(const config::Config& config, const std::string& environment);
// What unregistered processes read: "<tree>/local" (the host).
[[nodiscard]] std::string unregistered_target(const config::Config& config);

// Every target setlink may accept for this config, unregistered_target first.
[[nodiscard]] std::vector<std::string> valid_targets(const config::Config& config);

// Replace /proc/chos/valid (one write; links already set keep working).
[[nodiscard]] Result<> write_valid(const std::vector<std::string>& targets);

// Tell the module where the tree is (/proc/chos/tree), so that readers chrooted
// into it get the short targets; forget_tree() before the tree goes away.
[[nodiscard]] Result<> write_tree(const std::string& tree);
[[nodiscard]] Result<> forget_tree();

// What a reader sees for `target`: the long form from the host's view, the tail
// after "<tree>" from inside the tree; anything else is not that target.
[[nodiscard]] bool answers(const std::string& seen, const std::string& target, const std::string& tree);

// Set the calling process's own link (root only; children created afterwards
// inherit it), then read it back: a refused or lost write is an error, never a
// silent stay in the previous environment. `tree` is config.tree (see answers()).
[[nodiscard]] Result<> set_link(const std::string& target, const std::string& tree);

} // namespace chos::link::kmod
