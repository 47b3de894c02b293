// The tree itself (docs/architecture.md "The tree"; its paths in common/layout.hpp): a
// tmpfs at config `tree:` and its static
// skeleton -- the .chos directories, the "chos" -> "/" link, one relative symlink
// per OS directory, and a marker that tells a later start, stop, reload or status
// that this tmpfs is ours.
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "config/config.hpp"
#include "setup/mounts.hpp"
#include "setup/report.hpp"
#include "setup/trusted_dir.hpp"

#include <optional>
#include <string>
#include <sys/types.h>

namespace chos::setup {

inline constexpr const char* tree_marker_text = "chos-tree 1\n";

struct Tree {
    std::string path; // config `tree:`, as the admin wrote it (messages)
    std::string real; // as the kernel spells it (mountinfo comparisons)
    Fd root;          // O_PATH fd of the tmpfs root: everything is resolved beneath it
    dev_t dev = 0;    // the tmpfs's device: the only file system setup creates on

    [[nodiscard]] std::string shown(const std::string& relative) const
    {
        return relative.empty() ? path : path + "/" + relative;
    }
    [[nodiscard]] CreateIn create_in() const { return CreateIn{root.get(), dev, path}; }
};

// The tree start made, when there is one at `path`: a tmpfs mounted exactly there
// carrying our marker. nullopt when there is none (nothing mounted, someone
// else's mount, a symlink).
[[nodiscard]] Result<std::optional<Tree>> find_tree(const std::string& path);

// Validate the mount point (root-owned directory, not writable by group or others,
// not a symlink; created 0755 when missing inside a root-owned parent: docs/
// threat-model.md, class F: pre-created state), mount a fresh private tmpfs on it
// and write the marker.
struct CreatedTree {
    Tree tree;
    TrustedDirectory mount_point; // to remove the directory again if we made it
};
[[nodiscard]] Result<CreatedTree> create_tree(const std::string& path);

// Directories and the "chos" link: .chos, .chos/fs, .chos/os, .chos/bin.
[[nodiscard]] Result<> make_skeleton(const Tree& tree);

// One relative symlink "<d>" -> ".chos/fs/link/<d>" per OS directory; with
// remove_stale, links of that shape whose directory left the config go away.
[[nodiscard]] Result<> sync_os_dirs(const Tree& tree, const config::Config& config, bool remove_stale,
                                    BuildReport& report);

// One symlink ".chos/bin/<name>" -> "chos-run" per host command (host_commands); with
// remove_stale, links of that shape whose name left the config go away.
[[nodiscard]] Result<> sync_host_commands(const Tree& tree, const config::Config& config, bool remove_stale,
                                          BuildReport& report);

// Make `name` in the directory `dir_relative` a symlink to `target`; an existing
// symlink with that target is fine, anything else is an error.
[[nodiscard]] Result<> ensure_symlink(const Tree& tree, const std::string& dir_relative,
                                      const std::string& name, const std::string& target);

// The target of the symlink `name` in `dir_relative`, nullopt when it is not a
// symlink (or missing).
[[nodiscard]] Result<std::optional<std::string>> read_symlink(const Tree& tree, const std::string& dir_relative,
                                                              const std::string& name);

// The names in a directory of the tree (no "." and "..").
[[nodiscard]] Result<std::vector<std::string>> list_directory(const Tree& tree, const std::string& dir_relative);

} // namespace chos::setup
