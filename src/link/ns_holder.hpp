// The namespace holder, chos-nsd, as chos-setup sees it (the namespace backend's setup
// side, namespace.cpp; docs/architecture.md "The namespace backend").
//
// A namespace is kept alive by a process holding it open, not by a bind of its nsfs
// file: Linux 6.18 refuses, intermittently (EINVAL), to bind the nsfs file of a
// namespace from any namespace but the initial one. chos-setup forks the holder; it
// renames itself chos-nsd, detaches, builds one namespace per environment (ns_view.hpp)
// and keeps an fd of each and one of the host's, writes <run_dir>/nsd.pid and
// <run_dir>/namespaces (ns_record.hpp), says "ok" on a pipe, and waits for SIGTERM.
// A reload starts a new holder and then stops the old one: new launches get the new
// namespaces, processes inside keep theirs (a namespace lives as long as its last
// process). Library code: returns values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "link/backend.hpp"
#include "link/ns_record.hpp"

#include <string>
#include <sys/types.h>

namespace chos::link {

// Fork the holder for `config` and wait until it holds every namespace. Returns its pid.
[[nodiscard]] Result<pid_t> start_holder(const SetupPlace& place, const config::Config& config);

// The pid in <run_dir>/nsd.pid (0: none).
[[nodiscard]] Result<pid_t> holder_pid(const SetupPlace& place);

// SIGTERM (then SIGKILL) the holder `pid` when it is still chos-nsd; removes its record
// and pid file when they are still its own.
[[nodiscard]] Result<> stop_holder(const SetupPlace& place, pid_t pid);


} // namespace chos::link
