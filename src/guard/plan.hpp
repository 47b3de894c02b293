// Which mounts under a tree lack nosuid or nodev, and which of the two each must get
// (docs/architecture.md "The mount guard", docs/threat-model.md, class Q: late mounts).
//
// The rule, one line: a mount under the tree is at least as strict as the mount it sits
// on. The mounts directly on the tree's own tmpfs are CHOS's (only root mounts there:
// the launchers' binds keep setuid, a `dev:` bind keeps devices) and are taken as they
// are; every mount below one of them -- whenever and however it arrived, by
// propagation from the host above all -- must have nosuid if its parent has it, and
// nodev if its parent has it. So everything under /chos/local, a `bind:` entry or an
// environment becomes nosuid,nodev; under a `dev: true` bind only nosuid; under
// `local_suid: true` neither: the exceptions are the configuration's own, read from the
// mounts chos-setup made, not from a list kept in step by hand.
//
// Pure: unit-tested on mountinfo text (tests/unit/test_guard_plan.cpp).
#pragma once

#include "common/mountinfo.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chos::guard {

struct Fix {
    std::uint64_t id = 0;    // the mount (mountinfo's id)
    std::string mount_point; // as mountinfo shows it
    std::uint64_t set = 0;   // MOUNT_ATTR_NOSUID and/or MOUNT_ATTR_NODEV to add
};

// The fixes for the mounts beneath the mount `tree_id`, parents before children.
[[nodiscard]] std::vector<Fix> plan_fixes(const std::vector<platform::MountEntry>& mounts, std::uint64_t tree_id);

// "nosuid,nodev", "nosuid" or "nodev" for a set of the two attributes.
[[nodiscard]] std::string describe_attributes(std::uint64_t set);

} // namespace chos::guard
