// Whole-file reads and writes with bounds, done once (docs/architecture.md
// "Platform layer"): reading a file to its end without letting a hostile or broken
// one exhaust memory, writing a buffer to its end, and replacing a small state file
// so that a reader sees the old one or the new one, never a part.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::platform {

// Read fd to its end; an error when it holds more than `max` bytes.
[[nodiscard]] Result<std::string> read_all(int fd, std::size_t max, const std::string& shown);

// Write all of `data`, retrying short writes and EINTR.
[[nodiscard]] Result<> write_all(int fd, std::string_view data, const std::string& shown);

// Replace `name` in the directory `dirfd` (shown as `shown_dir`) with `data`: write
// "<name>.new" (created afresh, never through a symlink; one left by a process killed
// half-way is removed first), give it `mode`, rename it over `name`. On failure
// nothing is left but the old file. The caller serializes writers (a lock, or one
// writer by design).
[[nodiscard]] Result<> replace_file(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                                    const std::string& shown_dir);

struct DirectoryEntry {
    std::string name;
    bool directory = false; // a subdirectory (d_type, or fstatat when the fs does not say)
};

// The entries of the directory open as `dir` (O_RDONLY | O_DIRECTORY; the call takes
// it), without "." and "..", sorted by name.
[[nodiscard]] Result<std::vector<DirectoryEntry>> read_directory(Fd dir, const std::string& shown);

} // namespace chos::platform
