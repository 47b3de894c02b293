// Which mounts must get nosuid or nodev (see plan.hpp).
#include "guard/plan.hpp"

#include <linux/mount.h>
#include <unordered_map>
#include <unordered_set>

namespace chos::guard {

namespace {

constexpr std::uint64_t guarded_attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

std::uint64_t attributes_of(const platform::MountEntry& m)
{
    return (m.has_mount_option("nosuid") ? MOUNT_ATTR_NOSUID : 0) |
           (m.has_mount_option("nodev") ? MOUNT_ATTR_NODEV : 0);
}

} // namespace

std::vector<Fix> plan_fixes(const std::vector<platform::MountEntry>& mounts, std::uint64_t tree_id)
{
    std::unordered_map<std::uint64_t, std::vector<const platform::MountEntry*>> children;
    for (const auto& m : mounts)
        if (m.id != m.parent)
            children[m.parent].push_back(&m);

    std::vector<Fix> fixes;
    // (mount, the attributes its children must have): breadth first from the tree, so
    // a parent is fixed before its children; `seen` stops a malformed table's cycle.
    std::vector<std::pair<const platform::MountEntry*, std::uint64_t>> level;
    std::unordered_set<std::uint64_t> seen{tree_id};
    if (auto it = children.find(tree_id); it != children.end())
        for (const auto* m : it->second)
            if (seen.insert(m->id).second)
                level.emplace_back(m, attributes_of(*m)); // CHOS's own mounts: as they are
    while (!level.empty()) {
        std::vector<std::pair<const platform::MountEntry*, std::uint64_t>> next;
        for (const auto& [parent, required] : level) {
            auto it = children.find(parent->id);
            if (it == children.end())
                continue;
            for (const auto* m : it->second) {
                if (!seen.insert(m->id).second)
                    continue;
                const std::uint64_t has = attributes_of(*m);
                const std::uint64_t missing = required & ~has & guarded_attributes;
                if (missing != 0)
                    fixes.push_back(Fix{m->id, m->mount_point, missing});
                next.emplace_back(m, has | required);
            }
        }
        level = std::move(next);
    }
    return fixes;
}

std::string describe_attributes(std::uint64_t set)
{
    std::string text;
    if (set & MOUNT_ATTR_NOSUID)
        text = "nosuid";
    if (set & MOUNT_ATTR_NODEV)
        text += text.empty() ? "nodev" : ",nodev";
    return text;
}

} // namespace chos::guard
