// chos-linkfs's fair request loop (see fair_loop.hpp).
#include "fuse-linkfs/fair_loop.hpp"

#include "fuse-linkfs/linkfs_ops.hpp" // FUSE_USE_VERSION, <fuse_lowlevel.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <ctime>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace chos::linkfs {

namespace {

// A wakeup now and then even without a request: a signal that lands between the check
// of fuse_session_exited() and poll() is noticed within this time.
constexpr int idle_poll_ms = 1000;

using Request = std::vector<char>;

class FairQueues {
public:
    void push(uid_t uid, Request request)
    {
        auto& queue = queues_[uid];
        if (queue.empty())
            active_.push_back(uid);
        queue.push_back(std::move(request));
        ++size_;
    }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    // The next request in round-robin order of uids.
    Request pop()
    {
        const uid_t uid = active_.front();
        active_.pop_front();
        auto& queue = queues_[uid];
        Request request = std::move(queue.front());
        queue.pop_front();
        if (!queue.empty())
            active_.push_back(uid);
        --size_;
        return request;
    }
    // How many uids have requests waiting: one round answers that many.
    [[nodiscard]] std::size_t active() const { return active_.size(); }

private:
    std::unordered_map<uid_t, std::deque<Request>> queues_;
    std::deque<uid_t> active_;
    std::size_t size_ = 0;
};

void answer(fuse_session* se, Request& request)
{
    fuse_buf buf{};
    buf.mem = request.data();
    buf.size = request.size();
    fuse_session_process_buf(se, &buf);
}

} // namespace

int fair_session_loop(fuse_session* se)
{
    const int fd = fuse_session_fd(se);
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    FairQueues queues;
    fuse_buf in{}; // libfuse allocates its receive buffer once, on the first read
    int result = 0;
    while (!fuse_session_exited(se)) {
        // 1. Everything the kernel has queued, into the callers' queues.
        for (;;) {
            const int n = fuse_session_receive_buf(se, &in);
            if (n == -EINTR)
                continue;
            if (n == -EAGAIN)
                break;
            if (n < 0) {
                result = n;
                fuse_session_exit(se);
                break;
            }
            if (n == 0 || fuse_session_exited(se))
                break; // unmounted (ENODEV): libfuse ended the session
            if (in.flags & FUSE_BUF_IS_FD) {
                fuse_session_process_buf(se, &in); // spliced (not negotiated here): as is
                continue;
            }
            const auto size = static_cast<std::size_t>(n);
            const char* mem = static_cast<const char*>(in.mem);
            if (size < sizeof(fuse_in_header)) {
                fuse_buf whole{};
                whole.mem = in.mem;
                whole.size = size;
                fuse_session_process_buf(se, &whole); // libfuse reports the short read
                continue;
            }
            fuse_in_header header;
            std::memcpy(&header, mem, sizeof header);
            queues.push(header.uid, Request(mem, mem + size));
        }
        // 2. One round: a request of each uid that has any.
        for (std::size_t n = queues.active(); n > 0 && !queues.empty(); --n) {
            Request request = queues.pop();
            answer(se, request);
        }
        if (!queues.empty() || fuse_session_exited(se))
            continue; // drain again between rounds: newcomers join the next one
        // 3. Nothing to do: wait for the kernel. (ppoll: the daemon's poll(2) is its look
        //    at a caller's pidfd, which tests/integration/link_refusals.sh fakes.)
        pollfd p{fd, POLLIN, 0};
        const timespec idle{idle_poll_ms / 1000, (idle_poll_ms % 1000) * 1000000L};
        if (::ppoll(&p, 1, &idle, nullptr) < 0 && errno != EINTR) {
            result = -errno;
            break;
        }
    }
    // Whatever was read is answered, exactly once.
    while (!queues.empty()) {
        Request request = queues.pop();
        answer(se, request);
    }
    std::free(in.mem);
    return result;
}

} // namespace chos::linkfs
