#include "fuse-linkfs/link_cache.hpp"

#include "common/pidfd.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL // include/uapi/linux/pidfd.h, Linux 6.9
#endif

namespace chos::linkfs {

namespace {

// epoll_data carries the pid and the fd, so an event can be matched to exactly the
// entry that registered it.
std::uint64_t tag(pid_t pid, int fd) noexcept
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) | static_cast<std::uint32_t>(fd);
}

} // namespace

Fd open_pidfd(pid_t pid) noexcept
{
    Fd fd = platform::pidfd_open(pid);
    // A non-leader thread: EINVAL up to Linux 6.8, ENOENT since pidfs (6.9+). A
    // thread pidfd turns readable when that thread exits, before its tid is freed.
    // Where PIDFD_THREAD is unknown (EINVAL again) the caller answers uncached.
    if (!fd && (errno == EINVAL || errno == ENOENT))
        fd = platform::pidfd_open(pid, PIDFD_THREAD);
    return fd;
}

bool has_exited(int pidfd) noexcept
{
    // An error here is treated as "exited": the caller then does not cache.
    return platform::pidfd_poll(pidfd, 0) != 0;
}

Result<LinkCache> LinkCache::create(std::size_t capacity)
{
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep)
        return sys_error("cannot create the cache's epoll set");
    return LinkCache(std::move(ep), capacity);
}

LinkCache::LinkCache(Fd epoll, std::size_t capacity) : epoll_(std::move(epoll)), capacity_(capacity)
{
    // Allocated once, so inserting never rehashes under load.
    entries_.reserve(capacity);
}

void LinkCache::evict_exited() noexcept
{
    std::array<epoll_event, 64> events{};
    for (;;) {
        const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 0);
        if (n <= 0)
            return; // EINTR or nothing ready; an error cannot happen with a valid epoll fd
        for (int i = 0; i < n; ++i) {
            const auto pid = static_cast<pid_t>(events[static_cast<std::size_t>(i)].data.u64 >> 32);
            const auto fd = static_cast<int>(events[static_cast<std::size_t>(i)].data.u64 & 0xffffffffU);
            auto it = entries_.find(pid);
            if (it != entries_.end() && it->second.pidfd.get() == fd)
                entries_.erase(it); // closing the pidfd also leaves the epoll set
        }
        if (static_cast<std::size_t>(n) < events.size())
            return;
    }
}

std::optional<std::uint32_t> LinkCache::find(pid_t pid) const noexcept
{
    auto it = entries_.find(pid);
    if (it == entries_.end())
        return std::nullopt;
    return it->second.answer;
}

bool LinkCache::insert(pid_t pid, Fd pidfd, std::uint32_t answer) noexcept
{
    if (!pidfd || entries_.size() >= capacity_ || entries_.count(pid) != 0)
        return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(pid, pidfd.get());
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd.get(), &ev) != 0)
        return false;
    try {
        entries_.emplace(pid, Entry{std::move(pidfd), answer});
    } catch (...) {
        // bad_alloc: not cached. If pidfd was moved from, the entry's destructor
        // already closed it (and so left the epoll set).
        return false;
    }
    return true;
}

void LinkCache::erase(pid_t pid) noexcept
{
    entries_.erase(pid);
}

} // namespace chos::linkfs
