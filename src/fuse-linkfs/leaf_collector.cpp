#include "fuse-linkfs/leaf_collector.hpp"

#include "fuse-linkfs/log.hpp"

#include <csignal>
#include <pthread.h>

namespace chos::linkfs {

LeafCollector::LeafCollector(registry::Registry registry, std::chrono::seconds interval)
    : registry_(std::move(registry)), interval_(interval)
{
    // The thread starts with every signal blocked: SIGTERM must reach the FUSE loop's
    // thread, whose blocking read it interrupts.
    sigset_t all, old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

LeafCollector::~LeafCollector()
{
    thread_.request_stop();
    wake_.notify_all();
}

void LeafCollector::run(std::stop_token stop)
{
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, stop, interval_, [] { return false; })) {
        auto removed = registry_.collect_empty_leaves();
        if (!removed)
            log::error("cannot collect empty registration leaves: %s", removed.error().str().c_str());
        else if (*removed > 0)
            log::debug("removed %zu empty registration leaves", *removed);
    }
}

} // namespace chos::linkfs
