// A daemon's own pid file, <run_dir>/<name>: the daemon's side of the protocol of
// pid_file.hpp (readers: chos-setup, the launcher). chos-linkfs writes linkfs.pid,
// chos-guard guard.pid.
//
// run_dir is created root-owned 0755 when missing; an existing one that is not a
// root-owned directory, or is writable by group or others, is refused, never adopted
// (docs/threat-model.md, class F: pre-created state; Singularity CVE-2019-11328). The
// file is written beside and renamed into place, so a reader never sees a half-written
// pid.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace chos::platform {

class OwnPidFile {
public:
    // Check (or create) run_dir; refuse when <run_dir>/<name> names a live process
    // called `comm` (another instance of this daemon).
    [[nodiscard]] static Result<OwnPidFile> prepare(const std::string& run_dir, std::string_view name,
                                                    std::string_view comm);

    [[nodiscard]] Result<> write(pid_t pid);
    // Remove the file if it still holds the pid we wrote (a successor's is kept).
    void remove() noexcept;

    [[nodiscard]] std::string path() const;

private:
    std::string run_dir_;
    std::string name_;
    Fd dir_;
    pid_t written_ = 0;
};

} // namespace chos::platform
