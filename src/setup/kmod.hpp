// chos-setup with `backend: kmod` (or `auto` with the module loaded): no daemon.
// The module's filesystem is mounted on /proc/chos before the tree binds /proc (so
// the chroot's /proc carries it: setlink from inside), and on `<tree>/.chos/fs`, so
// `.chos/fs/link` is the module's link and the OS links keep chos-linkfs's shape;
// /proc/chos/valid lists the targets the launcher may set and /proc/chos/tree the
// tree (registry/kmod_link.hpp, chos.ko(4)).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"

namespace chos::setup {

// `kmod`, or `auto` while the module is loaded.
[[nodiscard]] bool uses_kmod(const config::Config& config);

// Before the tree is built: the config can work with the module (absolute targets
// need /proc bound into the tree and a one-component tree path that the tree can
// alias to "/"), and /proc/chos is mounted.
[[nodiscard]] Result<> prepare_kmod(const config::Config& config);

// After the tree is built: the module's filesystem on .chos/fs, the tree-name
// alias, the valid list, the tree's path (/proc/chos/tree).
[[nodiscard]] Result<> finish_kmod(const Tree& tree, const config::Config& config, BuildReport& report);

// Before the tree is unmounted: the module lets go of it (/proc/chos/tree).
[[nodiscard]] Result<> release_kmod(const config::Config& config);

} // namespace chos::setup
