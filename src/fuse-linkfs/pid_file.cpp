#include "fuse-linkfs/pid_file.hpp"

#include <cerrno>
#include <charconv>
#include <string_view>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::linkfs {

namespace {

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve)
{
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

constexpr std::uint64_t no_links = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// The pid in the file, if the file is a plain root-owned file holding one.
pid_t read_pid(int dirfd)
{
    Fd fd(openat2_fd(dirfd, PidFile::file_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
                     no_links | RESOLVE_BENEATH));
    if (!fd)
        return 0;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0)
        return 0;
    char buf[32];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    pid_t pid = 0;
    std::from_chars(buf, buf + n, pid);
    return pid;
}

bool is_running_linkfs(pid_t pid)
{
    if (pid <= 0 || pid == ::getpid())
        return false;
    const std::string path = "/proc/" + std::to_string(pid) + "/comm";
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return false;
    char comm[32] = {};
    const ssize_t n = ::read(fd.get(), comm, sizeof comm - 1);
    return n > 0 && std::string_view(comm, static_cast<std::size_t>(n)) == "chos-linkfs\n";
}

} // namespace

Result<PidFile> PidFile::prepare(const std::string& run_dir)
{
    if (run_dir.size() < 2 || run_dir.front() != '/' || run_dir.back() == '/')
        return error("refusing run directory", run_dir, "must be an absolute path other than '/'");
    const auto slash = run_dir.rfind('/');
    const std::string parent = slash == 0 ? "/" : run_dir.substr(0, slash);
    const std::string base = run_dir.substr(slash + 1);
    Fd pfd(openat2_fd(AT_FDCWD, parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, no_links));
    if (!pfd && errno == ELOOP)
        return error("refusing run directory", run_dir, "the path passes through a symbolic link");
    if (!pfd)
        return sys_error("cannot open directory", parent);
    if (::mkdirat(pfd.get(), base.c_str(), 0755) == 0) {
        if (::fchmodat(pfd.get(), base.c_str(), 0755, 0) != 0)
            return sys_error("cannot set the mode of", run_dir);
    } else if (errno != EEXIST) {
        return sys_error("cannot create run directory", run_dir);
    }
    PidFile f;
    f.run_dir_ = run_dir;
    f.dir_ = Fd(openat2_fd(pfd.get(), base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, no_links | RESOLVE_BENEATH));
    if (!f.dir_ && errno == ELOOP)
        return error("refusing run directory", run_dir, "it is a symbolic link");
    if (!f.dir_)
        return sys_error("cannot open run directory", run_dir);
    struct stat st {};
    if (::fstat(f.dir_.get(), &st) != 0)
        return sys_error("cannot stat run directory", run_dir);
    if (st.st_uid != 0)
        return error("refusing run directory", run_dir, "owned by uid " + std::to_string(st.st_uid) + ", not root");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return error("refusing run directory", run_dir, "writable by group or others");
    if (const pid_t other = read_pid(f.dir_.get()); is_running_linkfs(other))
        return error("refusing to start", f.path(), "chos-linkfs is already running as pid " + std::to_string(other));
    return f;
}

Result<> PidFile::write(pid_t pid)
{
    const std::string tmp = std::string(file_name) + ".new";
    (void)::unlinkat(dir_.get(), tmp.c_str(), 0);
    Fd fd(::openat(dir_.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd)
        return sys_error("cannot write pid file", run_dir_ + "/" + tmp);
    const std::string text = std::to_string(pid) + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fchmod(fd.get(), 0644) != 0) {
        const int err = errno;
        (void)::unlinkat(dir_.get(), tmp.c_str(), 0);
        errno = err;
        return sys_error("cannot write pid file", run_dir_ + "/" + tmp);
    }
    fd.reset();
    if (::renameat(dir_.get(), tmp.c_str(), dir_.get(), file_name) != 0) {
        const int err = errno;
        (void)::unlinkat(dir_.get(), tmp.c_str(), 0);
        errno = err;
        return sys_error("cannot write pid file", path());
    }
    written_ = pid;
    return {};
}

void PidFile::remove() noexcept
{
    if (written_ == 0 || !dir_)
        return;
    if (read_pid(dir_.get()) == written_)
        (void)::unlinkat(dir_.get(), file_name, 0);
    written_ = 0;
}

} // namespace chos::linkfs
