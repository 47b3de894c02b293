#include "fuse-linkfs/link_resolver.hpp"

#include "common/layout.hpp"

#include <cerrno>

namespace chos::linkfs {

LinkResolver::LinkResolver(registry::Registry registry, LinkCache cache)
    : registry_(std::move(registry)), cache_(std::move(cache))
{
    targets_.reserve(16);
    targets_.emplace_back(layout::answer_unregistered); // index 0: unregistered
}

std::uint32_t LinkResolver::intern(const registry::Membership& m)
{
    if (!m.registered)
        return 0;
    auto it = index_.find(m.environment);
    if (it != index_.end())
        return it->second;
    if (targets_.size() >= max_targets) {
        scratch_ = layout::answer_for(m.environment);
        return npos;
    }
    targets_.push_back(layout::answer_for(m.environment));
    const auto i = static_cast<std::uint32_t>(targets_.size() - 1);
    index_.emplace(m.environment, i);
    return i;
}

Answer LinkResolver::resolve(pid_t pid) noexcept
{
    // First, always: forget every process that has exited, so the number of a dead
    // one cannot be answered from the cache for whoever reuses it.
    cache_.evict_exited();

    if (pid > 0) {
        if (auto hit = cache_.find(pid))
            return Answer{0, targets_[*hit].c_str(), "hit", {}};
    }

    try {
        // pid 0: the caller lives in a pid namespace we cannot see into (P8).
        if (pid <= 0)
            return Answer{EACCES, nullptr, "", "caller has no pid in the daemon's pid namespace"};
        // Fill order against pid reuse: pin the process first, then read its
        // registration, then check it is still the same live process. If it exited
        // meanwhile, the /proc text may belong to a successor: answer (the asker is
        // gone anyway) but never cache.
        Fd pidfd = open_pidfd(pid);
        if (!pidfd && errno == ESRCH)
            return Answer{EACCES, nullptr, "", "caller vanished"};
        auto m = registry_.membership(pid);
        if (!m)
            return Answer{EACCES, nullptr, "", m.error().str()};
        const std::uint32_t i = intern(*m);
        if (i == npos)
            return Answer{0, scratch_.c_str(), "uncached", {}};
        // Unregistered callers are not cached: a process that registers from the
        // host (the launcher, PAM, SPANK) then needs no flush (docs/architecture.md
        // "The link"), and host processes rarely look through the tree.
        const bool cacheable = i != 0 && pidfd && !has_exited(pidfd.get());
        const bool cached = cacheable && cache_.insert(pid, std::move(pidfd), i);
        return Answer{0, targets_[i].c_str(), cached ? "miss" : "uncached", {}};
    } catch (...) {
        // Only bad_alloc (messages, interning) can get here; fail closed.
        return Answer{EACCES, nullptr, "", {}};
    }
}

void LinkResolver::forget(pid_t pid) noexcept
{
    cache_.evict_exited();
    cache_.erase(pid);
}

} // namespace chos::linkfs
