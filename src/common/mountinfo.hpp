// /proc/self/mountinfo, read one way (docs/architecture.md "Platform layer"): the
// registry finds what is mounted at its mount point, chos-setup what lies under the
// tree, chos-linkfs the type of a dead mount -- with one parser and one rule for
// "the mount at a path".
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chos::platform {

// One line of mountinfo (proc(5)); paths and sources unescaped.
struct MountEntry {
    std::uint64_t id = 0;
    std::uint64_t parent = 0;
    std::string root;          // root of the mount within its file system
    std::string mount_point;   // as seen from our root
    std::string mount_options; // per mount: rw,nosuid,nodev,...
    std::string fstype;
    std::string source;
    std::string super_options; // per superblock: name=chos,...

    [[nodiscard]] bool has_mount_option(std::string_view option) const;
    [[nodiscard]] bool has_super_option(std::string_view option) const;
};

// The complete lines of a mountinfo text; malformed lines (and an unterminated tail)
// are skipped.
[[nodiscard]] std::vector<MountEntry> parse_mountinfo(std::string_view text);

// /proc/self/mountinfo, parsed.
[[nodiscard]] Result<std::vector<MountEntry>> read_mountinfo();

// The mount that is visible at exactly `path`: of the mounts stacked there, the one no
// other mount at the same place sits on (the last such line if the table is odd).
// nullptr when nothing is mounted there.
[[nodiscard]] const MountEntry* top_mount_at(const std::vector<MountEntry>& mounts, std::string_view path);

// The line of the mount with this id, or nullptr.
[[nodiscard]] const MountEntry* mount_by_id(const std::vector<MountEntry>& mounts, std::uint64_t id);

// Is `option` one of the comma-separated `options`?
[[nodiscard]] bool has_option(std::string_view options, std::string_view option);

} // namespace chos::platform
