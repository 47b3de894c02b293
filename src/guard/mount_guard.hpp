// The mount guard (docs/architecture.md "The mount guard"; docs/threat-model.md, class
// Q: late mounts): watches the mounts of mount namespaces and gives every mount under a
// tree the nosuid/nodev that plan.hpp says it lacks, the moment it appears.
//
// One interface for every link backend: a list of (mount namespace, tree root). chos-guard
// watches the host's namespace and /chos; a backend that keeps a namespace per
// environment adds each with one call, add(ns_fd, root).
//
// How: each namespace's mountinfo, opened from inside it, is polled for POLLPRI (the
// kernel raises it on every mount or unmount in that namespace: proc(5)); on an event the
// guard re-reads it, plans, and applies mount_setattr(2) to each mount that lacks an
// attribute. mount_setattr acts only in the caller's namespace, so for another
// namespace the guard setns(2)s into it and back: the process must be single-threaded.
// A mount is reached by its mount point, opened beneath the tree's root with no symlink
// followed, and changed only when the opened mount's id is the planned one (a user who
// renames a directory above it can delay a fix to the next pass, never redirect it).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "guard/plan.hpp"

#include <cstdint>
#include <string>
#include <vector>

struct pollfd;

namespace chos::guard {

struct Applied {
    std::string mount_point;
    std::uint64_t set = 0;
};

// What one pass did.
struct Pass {
    std::vector<Applied> applied;
    std::vector<Error> failed; // retried at the next pass
};

class MountGuard {
public:
    // The guard of the caller's own mount namespace (it is where it returns after a
    // setns).
    [[nodiscard]] static Result<MountGuard> create();

    // Watch the mount namespace `ns` (an fd of /proc/<pid>/ns/mnt, or a bind of one)
    // beneath `root`, a path in that namespace (its tree). Makes one pass at once.
    [[nodiscard]] Result<Pass> add(Fd ns, std::string root);

    [[nodiscard]] std::size_t size() const noexcept { return watched_.size(); }

    // The descriptor of watch i to poll (events: POLLPRI; the kernel reports POLLERR too).
    [[nodiscard]] int poll_fd(std::size_t i) const noexcept { return watched_[i].mountinfo.get(); }

    // One pass over watch i: re-read its mounts, fix what lacks an attribute.
    [[nodiscard]] Result<Pass> pass(std::size_t i);

private:
    struct Watched {
        Fd ns;
        Fd mountinfo;
        std::string root;
        bool own = false; // the guard's own namespace: no setns needed
    };
    Fd own_ns_;
    Fd proc_;
    std::vector<Watched> watched_;

    [[nodiscard]] Result<Pass> pass_inside(Watched& w);
};

} // namespace chos::guard
