// pidfds (pidfd_open(2)): a handle on one process that a reused pid cannot redirect.
// glibc 2.36's <sys/pidfd.h> lacks extern "C" (fixed in 2.37), so C++ cannot link its
// wrappers: the system calls are made directly, here once.
#pragma once

#include "common/fd.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace chos::platform {

[[nodiscard]] inline Fd pidfd_open(pid_t pid, unsigned flags = 0) noexcept
{
    return Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, flags)));
}

inline int pidfd_send_signal(int pidfd, int sig) noexcept
{
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Wait up to timeout_ms (0: just look) for the process to exit: > 0 when it has, 0
// when it has not, < 0 on an error (each caller decides what an error means to it).
[[nodiscard]] inline int pidfd_poll(int pidfd, int timeout_ms = 0) noexcept
{
    pollfd p{pidfd, POLLIN, 0};
    int n;
    do
        n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n;
}

} // namespace chos::platform
