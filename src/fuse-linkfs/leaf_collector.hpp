// cgroup2 registry only (docs/architecture.md "The registry"): a registration leaf
// "chos-<env>" is made beside each caller's cgroup, so leaves of finished logins and
// jobs would pile up between two reloads. The daemon, which runs anyway, removes the
// empty ones every interval on a thread of its own (the kernel refuses to rmdir a leaf
// that holds a process, so there is no check-then-remove race). Signals stay with the
// FUSE loop.
#pragma once

#include "registry/registry.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace chos::linkfs {

class LeafCollector {
public:
    // Starts the thread (call after the daemon detached: threads do not survive fork).
    LeafCollector(registry::Registry registry, std::chrono::seconds interval);
    ~LeafCollector(); // stops and joins
    LeafCollector(const LeafCollector&) = delete;
    LeafCollector& operator=(const LeafCollector&) = delete;

private:
    void run(std::stop_token stop);

    registry::Registry registry_;
    std::chrono::seconds interval_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;
};

} // namespace chos::linkfs
