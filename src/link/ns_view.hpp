// One environment's view of the tree, in a mount namespace of its own (the namespace
// backend: docs/architecture.md "The namespace backend"). Called by the namespace
// holder, single-threaded, as root.
//
// The "direct shape": in a new mount namespace (made a slave of the host's at once, so
// later host mounts still arrive and nothing built here leaks out), a fresh tmpfs
// (nosuid, nodev, read-only once built) is stacked on the tree, holding
//   <d> for d in os_dirs   a recursive bind (nosuid, nodev) of the environment's own
//                          directory <tree>/.chos/os/<env>/<d>; a symlink when the
//                          environment's <d> is one (merged /usr: bin -> usr/bin)
//   every other entry      a recursive bind of the host tree's entry (local, the binds,
//                          .chos with the launchers), symlinks copied -- binds of slave
//                          mounts are slaves of the same master, so an automount or NFS
//                          mount made on the host later appears here too
//   .chos/fs/link          a symlink "../os/<env>" (the link's answer, fixed)
// so a path walk crosses no link and no daemon: the kernel's dentry cache resolves it.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "config/config.hpp"

namespace chos::link {

// unshare(CLONE_NEWNS), the namespace a recursive slave, the view built on
// config.tree. Returns an fd of the new namespace (/proc/self/ns/mnt); the caller is
// left inside it and returns to its own with setns.
[[nodiscard]] Result<Fd> build_environment_namespace(const config::Config& config, const config::Environment& env);

} // namespace chos::link
