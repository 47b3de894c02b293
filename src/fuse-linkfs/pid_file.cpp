// The daemon's side of the pid file (see pid_file.hpp).
#include "fuse-linkfs/pid_file.hpp"

#include "common/layout.hpp"
#include "common/pid_file.hpp"
#include "common/root_only.hpp"

#include <unistd.h>

namespace chos::linkfs {

namespace {

const std::string file_name(layout::pid_file_name);

} // namespace

std::string PidFile::path() const
{
    return run_dir_ + "/" + file_name;
}

Result<PidFile> PidFile::prepare(const std::string& run_dir)
{
    auto dir = platform::ensure_root_directory(run_dir, "refusing run directory");
    if (!dir)
        return std::unexpected(dir.error());
    PidFile f;
    f.run_dir_ = run_dir;
    f.dir_ = std::move(*dir);
    // A pid file that is not root's alone, or names no live chos-linkfs (other than us:
    // a stale file may hold our own, reused, pid), does not stop us.
    auto other = platform::read_pid_file(f.dir_.get(), file_name, f.path());
    if (other && *other != 0 && *other != ::getpid() &&
        platform::daemon_state(*other) != platform::DaemonState::gone)
        return error("refusing to start", f.path(), "chos-linkfs is already running as pid " + std::to_string(*other));
    return f;
}

Result<> PidFile::write(pid_t pid)
{
    if (auto ok = platform::write_pid_file(dir_.get(), file_name, pid, run_dir_); !ok)
        return ok;
    written_ = pid;
    return {};
}

void PidFile::remove() noexcept
{
    if (written_ == 0 || !dir_)
        return;
    platform::remove_pid_file(dir_.get(), file_name, written_);
    written_ = 0;
}

} // namespace chos::linkfs
