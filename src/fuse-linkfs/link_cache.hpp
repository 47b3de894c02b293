// The per-pid answer cache of chos-linkfs (docs/architecture.md "The link";
// docs/properties.md P7).
//
// pid -> answer, where each entry holds a pidfd of that very process (or thread) in an
// epoll set. A pidfd becomes readable when its process exits, and the kernel signals
// that before the pid number can be freed for reuse; so draining the epoll set at the
// start of every request evicts a dead pid before any new process with the same number
// can ask (docs/threat-model.md, class K: pid reuse never hits a stale entry; the
// original CHOS kept pid start times for this).
//
// A hit costs one epoll_wait(timeout 0) and one hash lookup: no /proc read, O(1) in
// processes and environments (P7). The cache is bounded; when full, new answers are
// simply not cached.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <optional>
#include <sys/types.h>
#include <unordered_map>

namespace chos::linkfs {

// A pidfd for a pid the FUSE request named, which is a thread id: pidfd_open(2)
// refuses non-leader threads (EINVAL, or ENOENT since 6.9) unless PIDFD_THREAD
// (Linux >= 6.9) is given. A leader gets a process pidfd: readable only when the
// whole thread group is gone, which is also when its pid can be reused.
// Invalid Fd (errno set) when it cannot be had: ESRCH means the caller is gone.
[[nodiscard]] Fd open_pidfd(pid_t pid) noexcept;

// Has the process behind this pidfd exited? (poll, no wait)
[[nodiscard]] bool has_exited(int pidfd) noexcept;

class LinkCache {
public:
    static constexpr std::size_t default_capacity = 65536;

    [[nodiscard]] static Result<LinkCache> create(std::size_t capacity);

    // Drop every entry whose process has exited. Call first in every request.
    void evict_exited() noexcept;
    // The cached answer for pid, if any.
    [[nodiscard]] std::optional<std::uint32_t> find(pid_t pid) const noexcept;
    // Remember answer for pid, owning its pidfd. False when not cached (full,
    // already present, or the epoll registration failed): the caller loses nothing
    // but speed.
    bool insert(pid_t pid, Fd pidfd, std::uint32_t answer) noexcept;
    // Forget pid (the "flush" lookup: exec keeps the pid, its registration changed).
    void erase(pid_t pid) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    struct Entry {
        Fd pidfd;
        std::uint32_t answer = 0;
    };

    LinkCache(Fd epoll, std::size_t capacity);

    Fd epoll_;
    std::size_t capacity_ = 0;
    std::unordered_map<pid_t, Entry> entries_;
};

} // namespace chos::linkfs
