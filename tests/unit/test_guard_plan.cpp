// The mount guard's plan (src/guard/plan.hpp): which mount under the tree lacks nosuid
// or nodev, from mountinfo text shaped like a running CHOS tree's.
// checks: Q
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "guard/plan.hpp"

#include <linux/mount.h>
#include <algorithm>
#include <string>

using namespace chos;

namespace {

constexpr std::uint64_t both = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

// "<id> <parent> 0:1 / <mount point> <options> - <type> <source> rw"
std::string line(int id, int parent, const std::string& mount_point, const std::string& options,
                 const std::string& type = "tmpfs")
{
    return std::to_string(id) + " " + std::to_string(parent) + " 0:1 / " + mount_point + " " + options +
           " shared:1 - " + type + " " + type + " rw\n";
}

// The host's root (1), the tree (20) and what chos-setup mounts on it.
std::string tree_mounts()
{
    return line(1, 1, "/", "rw,relatime", "ext4") + line(20, 1, "/chos", "rw,nosuid,nodev") +
           line(21, 20, "/chos/local", "rw,nosuid,nodev,relatime", "ext4") +
           line(22, 20, "/chos/dev", "rw,nosuid", "devtmpfs") +
           line(23, 20, "/chos/.chos/bin/chos-run", "ro,relatime", "ext4") +
           line(24, 20, "/chos/.chos/os/a", "rw,nosuid,nodev", "ext4") +
           line(25, 22, "/chos/dev/pts", "rw,nosuid,noexec", "devpts");
}

} // namespace

TEST_CASE("CHOS's own mounts are left as they are: the launchers, /dev, its submounts")
{
    CHECK(guard::plan_fixes(platform::parse_mountinfo(tree_mounts()), 20).empty());
}

TEST_CASE("a late mount under local, a bind or an environment gets what it lacks")
{
    const std::string text = tree_mounts() + line(30, 21, "/chos/local/mnt/usb", "rw,relatime") +
                             line(31, 24, "/chos/.chos/os/a/opt", "rw,nosuid,relatime") +
                             line(32, 21, "/chos/local/srv", "rw,nodev");
    auto fixes = guard::plan_fixes(platform::parse_mountinfo(text), 20);
    std::sort(fixes.begin(), fixes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    REQUIRE(fixes.size() == 3);
    CHECK(fixes[0].id == 30);
    CHECK(fixes[0].mount_point == "/chos/local/mnt/usb");
    CHECK(fixes[0].set == both);
    CHECK(fixes[1].id == 31);
    CHECK(fixes[1].set == MOUNT_ATTR_NODEV);
    CHECK(fixes[2].id == 32);
    CHECK(fixes[2].set == MOUNT_ATTR_NOSUID);
    CHECK(guard::describe_attributes(fixes[0].set) == "nosuid,nodev");
    CHECK(guard::describe_attributes(MOUNT_ATTR_NODEV) == "nodev");
}

TEST_CASE("a mount on a late mount inherits what its parent must have, parents first")
{
    // 41 lacks both and sits on 40, which lacks both too: 40 is fixed first, 41 needs
    // both although its parent's line (not yet fixed) shows neither.
    const std::string text =
        tree_mounts() + line(41, 40, "/chos/local/a/b", "rw") + line(40, 21, "/chos/local/a", "rw");
    const auto fixes = guard::plan_fixes(platform::parse_mountinfo(text), 20);
    REQUIRE(fixes.size() == 2);
    CHECK(fixes[0].id == 40);
    CHECK(fixes[1].id == 41);
    CHECK(fixes[1].set == both);
}

TEST_CASE("under a dev bind only nosuid is required; under local_suid nothing")
{
    const std::string text = tree_mounts() + line(50, 22, "/chos/dev/hugepages", "rw,relatime") +
                             line(51, 20, "/chos/local2", "rw,relatime") + line(52, 51, "/chos/local2/mnt", "rw");
    const auto fixes = guard::plan_fixes(platform::parse_mountinfo(text), 20);
    REQUIRE(fixes.size() == 1);
    CHECK(fixes[0].id == 50);
    CHECK(fixes[0].set == MOUNT_ATTR_NOSUID);
}

TEST_CASE("mounts outside the tree, and a malformed table's cycles, are never planned")
{
    const std::string text = tree_mounts() + line(60, 1, "/mnt", "rw") + line(61, 62, "/chos/local/x", "rw") +
                             line(62, 61, "/chos/local/y", "rw");
    CHECK(guard::plan_fixes(platform::parse_mountinfo(text), 20).empty());
    // a tree that is not in the table: nothing
    CHECK(guard::plan_fixes(platform::parse_mountinfo(tree_mounts()), 99).empty());
}
