// An environment's gate (common/layout.hpp): <tree>/.chos/gate/<env>, the one directory
// every path into the environment's tree passes (<tree>/.chos/os/<env> is a symlink
// through it). Its permissions are the allow-list's, so the kernel enforces the
// allow-list for every way into the tree -- a process of another environment, a shell
// on the host, `unshare -r chroot` (a user namespace's root has no rights over a
// directory whose owner it does not map) -- and not only the launcher
// (docs/threat-model.md, class S).
//
//   no users and no groups: root's, 0755 (open to everyone);
//   otherwise: root's, 0700, with a POSIX ACL giving search (x) to each uid of `users:`
//   and each gid of `groups:` (resolved by NSS, as root: chos-setup runs as root and
//   never as the caller); a name NSS does not know gives nobody anything (`chos-setup
//   check` warns about it).
//
// Set at every start and reload, so an allow-list edit reaches the kernel at once.
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"

#include <string>

namespace chos::setup {

// `gate` is an fd of the gate directory opened O_RDONLY (fchmod and the ACL need a real
// open file, not an O_PATH one).
[[nodiscard]] Result<> set_gate_access(int gate, const std::string& shown, const config::Environment& environment);

} // namespace chos::setup
