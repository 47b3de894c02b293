// A daemon's own pid file (see own_pid_file.hpp).
#include "common/own_pid_file.hpp"

#include "common/pid_file.hpp"
#include "common/root_only.hpp"

#include <unistd.h>

namespace chos::platform {

std::string OwnPidFile::path() const
{
    return run_dir_ + "/" + name_;
}

Result<OwnPidFile> OwnPidFile::prepare(const std::string& run_dir, std::string_view name, std::string_view comm)
{
    auto dir = ensure_root_directory(run_dir, "refusing run directory");
    if (!dir)
        return std::unexpected(dir.error());
    OwnPidFile f;
    f.run_dir_ = run_dir;
    f.name_ = std::string(name);
    f.dir_ = std::move(*dir);
    // A pid file that is not root's alone, or names no live daemon of ours (other than
    // us: a stale file may hold our own, reused, pid), does not stop us.
    auto other = read_pid_file(f.dir_.get(), f.name_, f.path());
    if (other && *other != 0 && *other != ::getpid() && daemon_state(*other, comm) != DaemonState::gone)
        return error("refusing to start", f.path(),
                     std::string(comm) + " is already running as pid " + std::to_string(*other));
    return f;
}

Result<> OwnPidFile::write(pid_t pid)
{
    if (auto ok = write_pid_file(dir_.get(), name_, pid, run_dir_); !ok)
        return ok;
    written_ = pid;
    return {};
}

void OwnPidFile::remove() noexcept
{
    if (written_ == 0 || !dir_)
        return;
    remove_pid_file(dir_.get(), name_, written_);
    written_ = 0;
}

} // namespace chos::platform
