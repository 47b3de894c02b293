// Directories setup adopts: the run directory and the tree's mount point.
//
// An attacker who can pre-create a runtime path (a directory they own, or a
// symlink to somewhere else) must see it refused, never adopted (docs/threat-model.md,
// class F: pre-created state; Singularity CVE-2019-11328 trusted such a directory).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <string>

namespace chos::setup {

struct TrustedDirectory {
    Fd fd;              // O_RDONLY|O_DIRECTORY: usable for flock and as a dirfd
    Fd parent;          // O_PATH of the parent, to undo a creation
    std::string name;   // last component
    bool created = false;
};

// Open `path` (absolute; its parents are the administrator's and are followed,
// the last component never is) and check it. When it is missing and `create` is
// set, create it 0755, but only inside a root-owned parent that others cannot
// write (or that is sticky, like /tmp, where nobody can replace root's entry).
[[nodiscard]] Result<TrustedDirectory> open_trusted_directory(const std::string& path, bool create);

} // namespace chos::setup
