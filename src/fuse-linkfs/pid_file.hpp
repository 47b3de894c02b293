// <run_dir>/linkfs.pid, the daemon's side of the protocol of common/pid_file.hpp
// (readers: chos-setup, the launcher).
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
#include <sys/types.h>

namespace chos::linkfs {

class PidFile {
public:
    // Check (or create) run_dir; refuse when its pid file names a live chos-linkfs.
    [[nodiscard]] static Result<PidFile> prepare(const std::string& run_dir);

    [[nodiscard]] Result<> write(pid_t pid);
    // Remove the file if it still holds the pid we wrote (a successor's is kept).
    void remove() noexcept;

    [[nodiscard]] std::string path() const;

private:
    std::string run_dir_;
    Fd dir_;
    pid_t written_ = 0;
};

} // namespace chos::linkfs
