// The per-process link behind one interface (docs/architecture.md "Link backends").
//
// <tree>/.chos/fs/link answers each process with the tree of the environment it is
// registered in. How it does that is a backend's business, one file each:
//   fuse.cpp  chos-linkfs, a FUSE daemon answering readlink from the caller's cgroup
//   kmod.cpp  chos.ko, the kernel module's per-task link (chos.ko(4))
//   namespace.cpp  one mount namespace per environment showing it directly, held by
//             chos-nsd; the launchers setns into it before the chroot
// A new backend is one more file implementing this class and one more line in
// select.cpp; chos-setup and the
// enter library only ever call the interface, never ask which backend it is.
//
// Two sides. chos-setup calls, under its run-directory lock:
//   start, reload:  check -> prepare -> (tree built, registry synced) -> serve
//   stop:           (refused while processes are registered) -> release -> (tree
//                   unmounted, registry torn down): release lets go of everything
//                   that would keep the tree or the registry's hierarchy alive
//   status:         status
// The enter library (launcher, pam_chos, spank_chos) calls, in its privileged window:
//   (re-rooted to its mount namespace's root, configuration read) -> host_view ->
//   (user, choice, allow-list) -> before_register -> (registry.enter) ->
//   after_register -> before_chroot -> (chroot) ...
// Library code: returns values, never prints, never exits.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/report.hpp"
#include "config/config.hpp"
#include "registry/registry.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace chos::link {

// The tree chos-setup built, as a backend's setup side sees it.
struct SetupPlace {
    int tree_root = -1;        // O_PATH fd of the tree's root: everything is resolved beneath it
    std::string tree;          // config `tree:` as written (messages)
    std::string tree_real;     // as the kernel spells it (mountinfo comparisons)
    std::string run_dir;       // root-owned, locked by chos-setup
    std::string linkfs;        // fuse: the chos-linkfs binary to start
    std::string config_source; // fuse: the configuration the daemon reads (--config)
    bool already_up = false;   // reload: the link should be served already (starting it is a repair)
};

// What `chos-setup status` shows of the link: "label: text" lines.
struct Status {
    std::vector<std::pair<std::string, std::string>> lines;
    bool healthy = true;
};

// A mount namespace of a backend's own, besides the host's, whose tree the mount guard
// watches (docs/architecture.md "The mount guard").
struct GuardedTree {
    std::string environment; // whose namespace it is (messages)
    Fd ns;                   // an nsfs fd of the mount namespace
    std::string root;        // the tree's root in that namespace
};

// What the enter library learns before registering, for after_register.
struct Prior {
    bool may_be_cached = true; // fuse: the daemon may hold an answer for this pid
};

class Backend {
public:
    Backend() = default;
    Backend(const Backend&) = delete;
    Backend& operator=(const Backend&) = delete;
    virtual ~Backend() = default;

    // As chos --version and the documentation name it: "fuse", "kmod", "namespace".
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

    // ---- chos-setup ----------------------------------------------------------------
    // Before anything is changed: can this backend work here (kmod: the module is loaded)?
    [[nodiscard]] virtual Result<> check(const config::Config&) const { return {}; }
    // Before the tree's mounts are made, which copy what is mounted by then (kmod:
    // /proc/chos, so the tree's /proc carries it); also validates what the config
    // must give this backend.
    [[nodiscard]] virtual Result<> prepare(const config::Config&) const { return {}; }
    // Once the tree and the registry are complete, for start and reload alike: serve
    // the link (start, keep or replace chos-linkfs; give the module its targets).
    [[nodiscard]] virtual Result<Report> serve(const SetupPlace& place, const config::Config& config) const = 0;
    // stop, before the tree is unmounted and the registry torn down.
    [[nodiscard]] virtual Result<Report> release(const SetupPlace& place, const config::Config& config) const = 0;
    [[nodiscard]] virtual Status status(const SetupPlace& place, const config::Config& config) const = 0;

    // True when a running process keeps the view of the tree it entered whatever a reload
    // changes (namespace: its mount namespace): a reload then replaces an environment
    // whose path changed at once, under its processes, instead of waiting for them.
    [[nodiscard]] virtual bool keeps_views() const noexcept { return false; }

    // ---- the mount guard (chos-guard) ------------------------------------------------
    // The namespaces of this backend's own whose trees the guard watches besides the
    // host's (namespace: each environment's, opened through the holder and verified);
    // called by chos-guard as it starts, after serve.
    [[nodiscard]] virtual Result<std::vector<GuardedTree>> guarded_trees(const config::Config&) const
    {
        return std::vector<GuardedTree>{};
    }
    // True when serve replaces those namespaces (namespace: every start and reload makes
    // new ones): chos-setup then restarts a running guard after serve, so that it lets
    // the old ones go and watches the new.
    [[nodiscard]] virtual bool serve_renews_guarded_trees() const noexcept { return false; }

    // ---- entering ------------------------------------------------------------------
    // Right after the configuration is read: leave whatever view of the system an
    // environment gave the caller, so that the user database and the registry are the
    // host's (the re-root to the mount namespace's root is done before, for all).
    [[nodiscard]] virtual Result<> host_view(const config::Config&) const { return {}; }
    // Right before registering: refuse when the link would not answer the new process
    // (fuse: chos-linkfs gone or stopped), and note what after_register needs.
    [[nodiscard]] virtual Result<Prior> before_register(const config::Config&, const registry::Registry&,
                                                        pid_t) const
    {
        return Prior{};
    }
    // Once the registry holds the process: make the link answer it (fuse: drop a cached
    // answer; kmod: set the task's link and read it back).
    [[nodiscard]] virtual Result<> after_register(const config::Config&, const config::Environment&,
                                                  const Prior&) const
    {
        return {};
    }
    // Right before the chroot into the tree.
    [[nodiscard]] virtual Result<> before_chroot(const config::Config&, const config::Environment&) const
    {
        return {};
    }
};

// The backend chos-setup builds with: `backend:`, or for `auto` kmod when the module is
// loaded (/proc/chos exists), else fuse.
[[nodiscard]] const Backend& for_setup(const config::Config& config);

// The backend a launch uses: `backend:`, or for `auto` kmod when chos-setup mounted the
// module's file system (/proc/chos/version exists), else fuse.
[[nodiscard]] const Backend& in_use(const config::Config& config);

// The backends (select.cpp), for those who must name one.
[[nodiscard]] const Backend& fuse_backend();
[[nodiscard]] const Backend& kmod_backend();
[[nodiscard]] const Backend& namespace_backend();

} // namespace chos::link
