// The mount guard (see mount_guard.hpp).
#include "guard/mount_guard.hpp"

#include "common/mount_ops.hpp"
#include "common/mountinfo.hpp"
#include "common/pinned_open.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::guard {

namespace {

// Are a and b the same namespace (nsfs inode)?
Result<bool> same_namespace(int a, int b)
{
    struct stat sa {}, sb {};
    if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0)
        return sys_error("cannot stat a mount namespace", "");
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// The whole text of a mountinfo fd, from its start (reading also clears its POLLPRI).
Result<std::string> read_all(int fd)
{
    if (::lseek(fd, 0, SEEK_SET) != 0)
        return sys_error("cannot rewind", "mountinfo");
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sys_error("cannot read", "mountinfo");
        }
        if (n == 0)
            return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
}

// For the time of a pass inside another namespace: setns there, and back at the end.
class Inside {
public:
    Inside(int target, int home, bool needed) : home_(home), entered_(false)
    {
        if (!needed)
            return;
        if (::setns(target, CLONE_NEWNS) != 0)
            return;
        entered_ = true;
    }
    ~Inside()
    {
        if (entered_) {
            // Back home: a failure here would leave the guard in the wrong namespace
            // for every later pass, so it is fatal.
            if (::setns(home_, CLONE_NEWNS) != 0)
                ::_exit(70);
            (void)!::chdir("/");
        }
    }
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;
    [[nodiscard]] bool entered() const noexcept { return entered_; }

private:
    int home_;
    bool entered_;
};

} // namespace

Result<MountGuard> MountGuard::create()
{
    MountGuard g;
    g.own_ns_ = Fd(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!g.own_ns_)
        return sys_error("cannot open", "/proc/self/ns/mnt");
    g.proc_ = Fd(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!g.proc_)
        return sys_error("cannot open", "/proc");
    return g;
}

Result<Pass> MountGuard::add(Fd ns, std::string root)
{
    auto own = same_namespace(ns.get(), own_ns_.get());
    if (!own)
        return std::unexpected(own.error());
    Watched w;
    w.own = *own;
    w.root = std::move(root);
    {
        Inside inside(ns.get(), own_ns_.get(), !w.own);
        if (!w.own && !inside.entered())
            return sys_error("cannot enter the mount namespace of", w.root);
        // Opened from inside: the file reports that namespace's mounts, with paths as
        // its root sees them (the /proc of our pid namespace, held open across setns).
        w.mountinfo = Fd(::openat(proc_.get(), "thread-self/mountinfo", O_RDONLY | O_CLOEXEC));
        if (!w.mountinfo)
            return sys_error("cannot open the mountinfo of the namespace of", w.root);
    }
    w.ns = std::move(ns);
    watched_.push_back(std::move(w));
    return pass(watched_.size() - 1);
}

Result<Pass> MountGuard::pass(std::size_t i)
{
    Watched& w = watched_[i];
    Inside inside(w.ns.get(), own_ns_.get(), !w.own);
    if (!w.own && !inside.entered())
        return sys_error("cannot enter the mount namespace of", w.root);
    return pass_inside(w);
}

Result<Pass> MountGuard::pass_inside(Watched& w)
{
    Pass pass;
    auto text = read_all(w.mountinfo.get());
    if (!text)
        return std::unexpected(text.error());
    // The tree's root: not there or not a mount (stopped, not yet started) is nothing
    // to guard.
    Fd root(::open(w.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root)
        return errno == ENOENT ? Result<Pass>(pass) : sys_error("cannot open", w.root);
    auto is_root = platform::is_mount_root(root.get(), w.root);
    if (!is_root)
        return std::unexpected(is_root.error());
    if (!*is_root)
        return pass;
    auto tree_id = platform::mount_id(root.get(), w.root);
    if (!tree_id)
        return std::unexpected(tree_id.error());
    // mountinfo spells the tree as the kernel does (symlinks of the configured path
    // resolved): the mount's own mount point.
    const auto mounts = platform::parse_mountinfo(*text);
    const auto* tree = platform::mount_by_id(mounts, *tree_id);
    if (tree == nullptr)
        return pass;
    const std::string prefix = tree->mount_point == "/" ? "/" : tree->mount_point + "/";

    for (const auto& fix : plan_fixes(mounts, *tree_id)) {
        if (!fix.mount_point.starts_with(prefix)) {
            pass.failed.push_back(Error{"cannot reach mount", fix.mount_point, 0, "not beneath " + tree->mount_point});
            continue;
        }
        const std::string relative = fix.mount_point.substr(prefix.size());
        auto fd = platform::open_pinned(root.get(), relative, O_PATH | O_CLOEXEC, platform::resolve_beneath,
                                        fix.mount_point);
        if (!fd) {
            pass.failed.push_back(fd.error());
            continue;
        }
        auto id = platform::mount_id(fd->get(), fix.mount_point);
        if (!id) {
            pass.failed.push_back(id.error());
            continue;
        }
        if (*id != fix.id) {
            // Moved, covered or gone since mountinfo was read: the next pass sees it again.
            pass.failed.push_back(Error{"cannot reach mount", fix.mount_point, 0,
                                        "another mount is there now (id " + std::to_string(*id) + ", not " +
                                            std::to_string(fix.id) + ")"});
            continue;
        }
        if (auto ok = platform::add_attributes(fd->get(), fix.set, fix.mount_point); !ok) {
            pass.failed.push_back(ok.error());
            continue;
        }
        pass.applied.push_back(Applied{fix.mount_point, fix.set});
    }
    return pass;
}

} // namespace chos::guard
