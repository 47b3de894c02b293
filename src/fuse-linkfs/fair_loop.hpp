// chos-linkfs's request loop: fair between callers (chos-linkfs(8) FAIRNESS;
// docs/threat-model.md, class R).
//
// The kernel queues FUSE requests first come, first served, so with libfuse's loop one
// user flooding the link from thousands of threads put every other user's request
// behind thousands of the flood's. This loop drains /dev/fuse without blocking (the
// session fd is made non-blocking: a read returns EAGAIN when the queue is empty),
// copies each request -- they are small: a lookup, a getattr, a readlink -- out of
// libfuse's receive buffer into a queue of its caller's uid, and then answers one
// request of each uid in turn (round-robin), draining again between rounds. A caller's
// request thus waits for at most one drain of the kernel's queue and one request per
// other active uid, whatever the number of flooding threads.
//
// Per request: one read, one copy, one queue push and pop -- O(1) (docs/properties.md,
// P7). Every request read is answered exactly once, also when the session ends: what
// is queued then is answered before the loop returns.
#pragma once

struct fuse_session;

namespace chos::linkfs {

// Serves `se` until it exits (a signal handler of fuse_set_signal_handlers, or the
// unmount). 0 then; -errno when reading the device failed.
[[nodiscard]] int fair_session_loop(fuse_session* se);

} // namespace chos::linkfs
