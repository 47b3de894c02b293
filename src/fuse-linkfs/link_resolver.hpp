// Who is asking, and which target they get (docs/architecture.md "The link"; the
// answers are spelled in common/layout.hpp):
//   registered in E        -> "../os/E"
//   not registered         -> "../../local"
//   pid 0, vanished, unreadable or malformed registration -> EACCES
//   (fail closed: docs/properties.md, P8)
//
// The daemon needs no environment list: a name in the registry is valid because
// only root creates environment cgroups. Answers are interned once per environment
// seen, so the cache holds small indexes and a hit copies nothing.
#pragma once

#include "fuse-linkfs/link_cache.hpp"
#include "registry/registry.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace chos::linkfs {

struct Answer {
    int err = 0;                  // errno to reply with, 0 when target is set
    const char* target = nullptr; // NUL-terminated, valid until the next resolve()
    const char* how = "";         // "hit", "miss", "uncached": for --debug lines
    std::string why;              // on error: what went wrong, for the log
};

class LinkResolver {
public:
    // Interned targets are bounded too: beyond this many environments answers are
    // still right, just not cached.
    static constexpr std::size_t max_targets = 4096;

    LinkResolver(registry::Registry registry, LinkCache cache);

    [[nodiscard]] Answer resolve(pid_t pid) noexcept;
    // The "flush" lookup: pid's registration may have changed (exec keeps the pid).
    void forget(pid_t pid) noexcept;

    [[nodiscard]] const LinkCache& cache() const noexcept { return cache_; }

private:
    // Index of the target for m, or npos when the table is full (then scratch_).
    std::uint32_t intern(const registry::Membership& m);

    static constexpr std::uint32_t npos = 0xffffffffU;

    registry::Registry registry_;
    LinkCache cache_;
    std::vector<std::string> targets_;
    std::unordered_map<std::string, std::uint32_t> index_;
    std::string scratch_;
};

} // namespace chos::linkfs
