// The FUSE file system of chos-linkfs: a root directory (ino 1) holding exactly one
// symlink, "link" (ino 2), whose target depends on who reads it.
//
// Low-level libfuse API in the style of libfuse's example/passthrough_hp.cc: every
// callback is noexcept and answers its request exactly once, errors as errno.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "fuse-linkfs/link_resolver.hpp"

#include <ctime>

namespace chos::linkfs {

// The session's userdata.
struct LinkfsContext {
    LinkResolver* resolver = nullptr;
    std::time_t started = 0; // shown as the times of both inodes
};

[[nodiscard]] const fuse_lowlevel_ops& linkfs_operations() noexcept;

} // namespace chos::linkfs
