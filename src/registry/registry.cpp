// The registry: writing and reading back which environment a process is in
// (DESIGN.md "Registration", HACKING.md "Registry").
//
// Every path below a registry root is opened relative to a pinned directory fd with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV), and ownership is
// checked on the opened object, not on a name: a directory swapped for a symlink
// between check and use can never redirect a write (runc CVE-2021-30465,
// bubblewrap CVE-2019-12439: SECURITY.md class C). Needs Linux >= 5.6 (openat2)
// and the new mount API (fsopen/fsmount/move_mount, Linux >= 5.2).
//
// How `registry.type: auto` is resolved (open() never mounts, sync() does):
//   1. what is mounted at registry.mount decides: a cgroup v1 file system with
//      "name=<registry.name>" -> cgroup1; a cgroup2 file system -> cgroup2 (that is
//      chos-setup's marker of a fallback, see 3.);
//   2. nothing mounted there (chos-setup has not run): cgroup1 when the kernel can
//      mount a named v1 hierarchy -- "cgroup" is listed in /proc/filesystems and the
//      command line has no cgroup_no_v1=all|named -- else cgroup2. Both files are
//      cheap to read and are exactly what the kernel consults (cgroup1_parse_param
//      refuses "name=" when cgroup_no_v1=named is set);
//   3. sync() tries the v1 mount; when the kernel refuses it (EINVAL, EPERM, ENODEV,
//      ENOENT, EOPNOTSUPP: disabled named hierarchies, no v1 support, an LSM or a
//      container without init-namespace CAP_SYS_ADMIN) it bind-mounts the cgroup2
//      hierarchy at registry.mount instead. So the decision is recorded in the mount
//      table and every later open() -- launcher, PAM, SPANK, chos-linkfs -- agrees
//      with it through rule 1, even where rule 2's guess was wrong. A Registry
//      object is a value: after a sync() that fell back, open() again.
#include "registry/registry.hpp"

#include "common/fd.hpp"
#include "config/names.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chos::registry {

namespace {

using config::RegistryType;

constexpr std::uint64_t resolve_beneath =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
constexpr std::uint64_t resolve_no_links = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// Bounds for files we read whole: far above anything real, small enough that a
// hostile or broken file cannot exhaust memory.
constexpr std::size_t max_text_size = 16 * 1024 * 1024;
// Deep enough for any real cgroup tree; a bound keeps the walk's fds bounded.
constexpr int max_walk_depth = 64;

// ---- system calls --------------------------------------------------------------

int openat2_fd(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve)
{
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    long fd;
    do
        fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return static_cast<int>(fd);
}

// openat2's refusals, said in words.
std::unexpected<Error> open_error(const char* what, const std::string& shown)
{
    if (errno == ELOOP)
        return error(what, shown, "the path passes through a symbolic link (refused)");
    if (errno == EXDEV)
        return error(what, shown, "the path leaves the registry's file system (refused)");
    return sys_error(what, shown);
}

// An absolute directory, no symlink anywhere on the way.
Result<Fd> open_dir(const std::string& path, int flags = O_PATH)
{
    Fd fd(openat2_fd(AT_FDCWD, path.c_str(), static_cast<std::uint64_t>(flags) | O_DIRECTORY | O_CLOEXEC,
                     resolve_no_links));
    if (!fd)
        return open_error("cannot open directory", path);
    return fd;
}

// A name below a pinned directory, never leaving it.
Result<Fd> open_below(int dirfd, const std::string& name, int flags, const std::string& shown)
{
    Fd fd(openat2_fd(dirfd, name.c_str(), static_cast<std::uint64_t>(flags) | O_CLOEXEC | O_NOFOLLOW,
                     resolve_beneath));
    if (!fd)
        return open_error("cannot open", shown);
    return fd;
}

Result<> check_fs(int fd, long magic, const std::string& shown, const char* expected)
{
    struct statfs sfs {};
    if (::fstatfs(fd, &sfs) != 0)
        return sys_error("cannot statfs", shown);
    if (sfs.f_type != magic)
        return error("not the registry", shown, std::string("is not a ") + expected + " file system");
    return {};
}

// A registry object anyone but root could write would let a user move processes
// (P3): cgroup directories and their cgroup.procs must be root's alone
// (SECURITY.md K2; cgroup v1 CVE-2022-0492 was about exactly such files).
Result<> check_root_only(int fd, const std::string& shown, bool directory)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error("cannot stat", shown);
    if (directory && !S_ISDIR(st.st_mode))
        return error("refusing registry object", shown, "is not a directory");
    if (st.st_uid != 0)
        return error("refusing registry object", shown,
                     "is owned by uid " + std::to_string(st.st_uid) + ", not root");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return error("refusing registry object", shown, "is writable by group or others");
    return {};
}

Result<> write_pid(int fd, pid_t pid, const std::string& shown)
{
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, pid);
    if (ec != std::errc{})
        return error("cannot format pid", shown, "out of range");
    const auto len = static_cast<std::size_t>(end - buf);
    ssize_t n;
    do
        n = ::write(fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error("cannot register pid " + std::to_string(pid) + " in", shown);
    if (static_cast<std::size_t>(n) != len)
        return error("cannot register pid " + std::to_string(pid) + " in", shown, "short write");
    return {};
}

// Read an fd to its end (bounded).
Result<std::string> read_all(int fd, const std::string& shown)
{
    std::string text;
    std::array<char, 8192> chunk{};
    for (;;) {
        ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot read", shown);
        if (n == 0)
            return text;
        text.append(chunk.data(), static_cast<std::size_t>(n));
        if (text.size() > max_text_size)
            return error("cannot read", shown, "file too large");
    }
}

Result<std::string> read_text(const char* path)
{
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd)
        return sys_error("cannot open", path);
    return read_all(fd.get(), path);
}

std::size_t count_lines(std::string_view text)
{
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// ---- /proc/<pid>/cgroup ---------------------------------------------------------

// The fast path of membership() (chos-linkfs cache misses, ~9 us): one open, one
// read into a fixed buffer; a full buffer means there may be more, then read on.
// A short read of a seq_file means its end. Even if it did not, the parsers only
// trust newline-terminated lines and fail closed on a missing line.
class ProcCgroup {
public:
    Result<std::string_view> read(pid_t pid)
    {
        if (pid <= 0)
            return error("cannot read registration", std::to_string(pid), "not a process id");
        char path[40] = "/proc/";
        auto [end, ec] = std::to_chars(path + 6, path + sizeof path - 8, pid);
        if (ec != std::errc{})
            return error("cannot read registration", std::to_string(pid), "not a process id");
        std::copy_n("/cgroup", 8, end);
        Fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
        if (!fd)
            return sys_error("cannot read registration of pid", std::to_string(pid));
        ssize_t n;
        do
            n = ::read(fd.get(), buf_.data(), buf_.size());
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return sys_error("cannot read registration of pid", std::to_string(pid));
        if (static_cast<std::size_t>(n) < buf_.size())
            return std::string_view(buf_.data(), static_cast<std::size_t>(n));
        auto rest = read_all(fd.get(), path);
        if (!rest)
            return std::unexpected(rest.error());
        spill_.assign(buf_.data(), buf_.size());
        spill_ += *rest;
        return std::string_view(spill_);
    }

private:
    std::array<char, 8192> buf_{};
    std::string spill_;
};

// ---- /proc/self/mountinfo --------------------------------------------------------

struct MountEntry {
    int id = 0;
    int parent = 0;
    std::string root;        // root of the mount within its file system
    std::string mount_point; // as seen from our root
    std::string fstype;
    std::string super_options;
};

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo (proc(5)).
std::string unescape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool octal = s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                           s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7';
        if (octal) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

int to_int(std::string_view s)
{
    int v = -1;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text)
{
    std::vector<MountEntry> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            break; // unterminated tail: not a complete entry
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        std::vector<std::string_view> f;
        std::size_t p = 0;
        while (p <= line.size()) {
            auto sp = line.find(' ', p);
            if (sp == std::string_view::npos)
                sp = line.size();
            f.push_back(line.substr(p, sp - p));
            p = sp + 1;
        }
        auto sep = std::find(f.begin(), f.end(), std::string_view("-"));
        if (f.size() < 7 || sep == f.end() || sep - f.begin() < 6 || f.end() - sep < 4)
            continue;
        MountEntry e;
        e.id = to_int(f[0]);
        e.parent = to_int(f[1]);
        e.root = unescape(f[3]);
        e.mount_point = unescape(f[4]);
        e.fstype = unescape(*(sep + 1));
        e.super_options = unescape(*(sep + 3));
        out.push_back(std::move(e));
    }
    return out;
}

Result<std::vector<MountEntry>> read_mounts()
{
    auto text = read_text("/proc/self/mountinfo");
    if (!text)
        return std::unexpected(text.error());
    return parse_mountinfo(*text);
}

// The mount that is visible at `path`: of the mounts stacked there, the one no
// other mount at the same place sits on.
const MountEntry* top_mount(const std::vector<MountEntry>& mounts, const std::string& path)
{
    const MountEntry* top = nullptr;
    for (const auto& m : mounts) {
        if (m.mount_point != path)
            continue;
        bool covered = std::any_of(mounts.begin(), mounts.end(), [&](const MountEntry& o) {
            return o.mount_point == path && o.parent == m.id && &o != &m;
        });
        if (!covered)
            top = &m; // the last uncovered one wins if the table is odd
    }
    return top;
}

bool has_option(std::string_view options, std::string_view option)
{
    std::size_t pos = 0;
    while (pos <= options.size()) {
        auto comma = options.find(',', pos);
        if (comma == std::string_view::npos)
            comma = options.size();
        if (options.substr(pos, comma - pos) == option)
            return true;
        pos = comma + 1;
    }
    return false;
}

bool is_named_cgroup1(const MountEntry& m, const std::string& name)
{
    return m.fstype == "cgroup" && has_option(m.super_options, "name=" + name);
}

bool is_cgroup2_root(const MountEntry& m)
{
    return m.fstype == "cgroup2" && m.root == "/";
}

// The system's cgroup2 mount (systemd's /sys/fs/cgroup or, hybrid, .../unified).
Result<std::string> system_cgroup2_root(const std::vector<MountEntry>& mounts, const std::string& except)
{
    for (const auto& m : mounts)
        if (is_cgroup2_root(m) && m.mount_point != except)
            return m.mount_point;
    return error("cannot find the cgroup2 hierarchy", "/proc/self/mountinfo", "no cgroup2 file system is mounted");
}

// Rule 2 of the file comment.
bool kernel_offers_named_cgroup1()
{
    auto fs = read_text("/proc/filesystems");
    if (!fs || fs->find("\tcgroup\n") == std::string::npos)
        return false;
    auto cmdline = read_text("/proc/cmdline");
    if (!cmdline)
        return true;
    std::string_view c = *cmdline;
    std::size_t pos = 0;
    while ((pos = c.find("cgroup_no_v1=", pos)) != std::string_view::npos) {
        if (pos != 0 && c[pos - 1] != ' ') {
            ++pos;
            continue;
        }
        pos += 13;
        auto end = c.find_first_of(" \n", pos);
        auto value = c.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (has_option(value, "all") || has_option(value, "named"))
            return false;
    }
    return true;
}

// ---- mounting (sync) ----------------------------------------------------------------

// The registry mount point, created if missing, pinned as an fd. A pre-created one
// that root does not own alone is refused, never adopted (Singularity
// CVE-2019-11328, SECURITY.md class F); the mount lands on the pinned directory
// itself, whatever happens to the path afterwards (class C).
Result<Fd> pin_mount_point(const std::string& path)
{
    if (path == "/" || path.empty() || path.front() != '/')
        return error("refusing registry mount point", path, "must be an absolute path other than '/'");
    const auto slash = path.rfind('/');
    const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    const std::string base = path.substr(slash + 1);
    auto pfd = open_dir(parent);
    if (!pfd)
        return std::unexpected(pfd.error());
    if (::mkdirat(pfd->get(), base.c_str(), 0755) == 0) {
        if (::fchmodat(pfd->get(), base.c_str(), 0755, 0) != 0)
            return sys_error("cannot set the mode of", path);
    } else if (errno != EEXIST) {
        return sys_error("cannot create registry mount point", path);
    }
    auto fd = open_below(pfd->get(), base, O_PATH | O_DIRECTORY, path);
    if (!fd)
        return std::unexpected(fd.error());
    if (auto ok = check_root_only(fd->get(), path, true); !ok)
        return std::unexpected(ok.error());
    return fd;
}

// Errors meaning "this kernel (or this container) does not do named v1
// hierarchies", where `auto` falls back to cgroup2. Anything else (EBUSY: a
// hierarchy of that name exists with other options) is a real error.
bool is_refusal(int err)
{
    return err == EINVAL || err == EPERM || err == ENODEV || err == ENOENT || err == EOPNOTSUPP;
}

// mount -t cgroup -o none,name=<name> onto the pinned fd, nosuid,nodev,noexec.
// No release_agent is ever set (CVE-2022-0492).
// Returns the attached mount's own fd: callers keep working through it, because the
// mount point's name may have been swapped for a symlink since it was pinned
// (SECURITY.md class C).
Result<Fd> mount_named_cgroup1(int target, const std::string& name, const std::string& shown)
{
    Fd fs(::fsopen("cgroup", FSOPEN_CLOEXEC));
    if (!fs)
        return sys_error("cannot mount the registry hierarchy 'name=" + name + "' at", shown);
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "none", nullptr, 0) != 0 ||
        ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "name", name.c_str(), 0) != 0 ||
        ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return sys_error("cannot mount the registry hierarchy 'name=" + name + "' at", shown);
    Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    if (!mnt)
        return sys_error("cannot mount the registry hierarchy 'name=" + name + "' at", shown);
    if (::move_mount(mnt.get(), "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot attach the registry hierarchy at", shown);
    return mnt;
}

// Bind the cgroup2 hierarchy at the registry mount point: the fallback's marker
// (file comment, rule 1) and the root its leaves are made under. A bind, not a new
// cgroup2 mount: mounting cgroup2 again would reapply (and so reset) the
// superblock's options such as nsdelegate.
Result<Fd> bind_cgroup2(int target, const std::string& source, const std::string& shown)
{
    Fd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW));
    if (!tree)
        return sys_error("cannot bind the cgroup2 hierarchy '" + source + "' at", shown);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        return sys_error("cannot set nosuid,nodev,noexec on", shown);
    if (::move_mount(tree.get(), "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return sys_error("cannot bind the cgroup2 hierarchy '" + source + "' at", shown);
    return tree;
}

// Undoes a mount that sync() made when a later step fails: removes the environment
// cgroups it may have created (a named hierarchy with children outlives its mounts)
// and detaches the mount through its own fd, never through a path that may now lead
// elsewhere.
struct DetachOnFailure {
    Fd mount;
    const config::Config* config = nullptr;
    bool armed = false;
    ~DetachOnFailure()
    {
        if (!armed || !mount)
            return;
        if (config)
            for (const auto& env : config->environments)
                (void)::unlinkat(mount.get(), env.name.c_str(), AT_REMOVEDIR);
        const std::string self = "/proc/self/fd/" + std::to_string(mount.get());
        (void)::umount2(self.c_str(), MNT_DETACH);
    }
};

// ---- cgroup directories ------------------------------------------------------------

// Names of the subdirectories (child cgroups) of an open directory.
Result<std::vector<std::string>> child_cgroups(int dirfd, const std::string& shown)
{
    Fd rd(openat2_fd(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, resolve_beneath));
    if (!rd)
        return sys_error("cannot list", shown);
    DIR* d = ::fdopendir(rd.get());
    if (d == nullptr)
        return sys_error("cannot list", shown);
    rd.release();
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..")
            continue;
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st {};
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
                type = DT_DIR;
        }
        if (type == DT_DIR)
            names.emplace_back(n);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) {
        errno = err;
        return sys_error("cannot list", shown);
    }
    return names;
}

Result<std::size_t> count_procs(int cgroup_dir, const std::string& shown)
{
    auto fd = open_below(cgroup_dir, "cgroup.procs", O_RDONLY, shown + "/cgroup.procs");
    if (!fd)
        return std::unexpected(fd.error());
    auto text = read_all(fd->get(), shown + "/cgroup.procs");
    if (!text)
        return std::unexpected(text.error());
    return count_lines(*text);
}

// A root-owned "chos-<valid name>" directory: a registration leaf. Anything else
// with the prefix is a look-alike (SECURITY.md K2) and is never touched.
std::optional<std::string> leaf_environment(int dirfd, const std::string& name)
{
    if (!std::string_view(name).starts_with(cgroup2_leaf_prefix))
        return std::nullopt;
    auto env = name.substr(cgroup2_leaf_prefix.size());
    if (!config::is_valid_environment_name(env))
        return std::nullopt;
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
        return std::nullopt;
    return env;
}

// Depth-first over the cgroup2 tree, calling on_leaf(parent_fd, name, env, path)
// for every registration leaf. Leaves are not descended into (only root could
// have made children there, and those are not registrations); at most
// max_walk_depth directories are open at a time. A cgroup removed while we walk
// is skipped, not an error.
template <typename F>
Result<> walk_leaves(int dirfd, const std::string& shown, int depth, F& on_leaf)
{
    auto names = child_cgroups(dirfd, shown);
    if (!names) {
        if (names.error().err == ENOENT || names.error().err == ENODEV)
            return {};
        return std::unexpected(names.error());
    }
    for (const auto& name : *names) {
        const std::string path = shown + "/" + name;
        if (auto env = leaf_environment(dirfd, name)) {
            if (auto ok = on_leaf(dirfd, name, *env, path); !ok)
                return ok;
            continue;
        }
        if (depth >= max_walk_depth)
            continue;
        Fd child(openat2_fd(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, resolve_beneath));
        if (!child)
            continue; // removed meanwhile, or another mount (RESOLVE_NO_XDEV)
        if (auto ok = walk_leaves(child.get(), path, depth + 1, on_leaf); !ok)
            return ok;
    }
    return {};
}

std::string join_names(const std::vector<std::string>& names)
{
    std::string s;
    for (const auto& n : names)
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

} // namespace

// ---- open ---------------------------------------------------------------------------

Result<Registry> Registry::open(const config::Config& config)
{
    Registry r;
    r.name_ = config.registry.name;
    r.mount_ = config.registry.mount;
    r.type_ = config.registry.type;
    if (r.type_ == RegistryType::cgroup1)
        return r;

    auto mounts = read_mounts();
    if (!mounts)
        return std::unexpected(mounts.error());
    const MountEntry* top = top_mount(*mounts, r.mount_);
    if (top != nullptr && r.type_ == RegistryType::automatic) {
        if (is_named_cgroup1(*top, r.name_)) {
            r.type_ = RegistryType::cgroup1;
            return r;
        }
        if (!is_cgroup2_root(*top))
            return error("not the registry", r.mount_,
                         "a '" + top->fstype + "' file system is mounted there, not the 'name=" + r.name_ +
                             "' cgroup hierarchy");
    }
    if (r.type_ == RegistryType::automatic && top == nullptr && kernel_offers_named_cgroup1()) {
        r.type_ = RegistryType::cgroup1;
        return r;
    }
    r.type_ = RegistryType::cgroup2;
    if (top != nullptr && is_cgroup2_root(*top)) {
        r.cgroup2_root_ = r.mount_;
    } else {
        auto root = system_cgroup2_root(*mounts, r.mount_);
        if (!root)
            return std::unexpected(root.error());
        r.cgroup2_root_ = *root;
    }
    return r;
}

// ---- enter ----------------------------------------------------------------------------

Result<> Registry::enter(pid_t pid, const std::string& environment) const
{
    if (!config::is_valid_environment_name(environment))
        return error("cannot register", config::quote_for_message(environment),
                     "not a valid environment name (see chos.yaml(5))");
    if (pid <= 0)
        return error("cannot register", std::to_string(pid), "not a process id");

    if (type_ == RegistryType::cgroup1) {
        auto root = open_dir(mount_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
            return error("the registry is not mounted", mount_, "run 'chos-setup start'");
        const std::string shown = mount_ + "/" + environment;
        auto dir = open_below(root->get(), environment, O_PATH | O_DIRECTORY, shown);
        if (!dir) {
            if (dir.error().err == ENOENT)
                return error("environment is not set up in the registry", environment,
                             "no cgroup '" + shown + "' (run 'chos-setup reload')");
            return std::unexpected(dir.error());
        }
        if (auto ok = check_root_only(dir->get(), shown, true); !ok)
            return ok;
        auto procs = open_below(dir->get(), "cgroup.procs", O_WRONLY, shown + "/cgroup.procs");
        if (!procs)
            return std::unexpected(procs.error());
        if (auto ok = check_root_only(procs->get(), shown + "/cgroup.procs", false); !ok)
            return ok;
        if (auto ok = write_pid(procs->get(), pid, shown + "/cgroup.procs"); !ok)
            return ok;
    } else {
        auto root = open_dir(cgroup2_root_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP2_SUPER_MAGIC, cgroup2_root_, "cgroup2"); !ok)
            return ok;
        ProcCgroup proc;
        auto text = proc.read(pid);
        if (!text)
            return std::unexpected(text.error());
        auto current = cgroup2_path(*text);
        if (!current || !is_clean_cgroup_path(*current))
            return error("cannot register", std::to_string(pid), "its cgroup2 membership is unreadable");
        // Beside the current cgroup, so the limits of the systemd scope or Slurm job
        // still apply (P4); from inside a leaf (switching, P9) use its parent so
        // leaves never nest.
        std::string parent = *current;
        const auto slash = parent.rfind('/');
        if (std::string_view(parent).substr(slash + 1).starts_with(cgroup2_leaf_prefix))
            parent.resize(slash == 0 ? 1 : slash);
        const std::string rel = parent == "/" ? "." : parent.substr(1);
        const std::string shown_parent = cgroup2_root_ + (parent == "/" ? "" : parent);
        auto pdir = open_below(root->get(), rel, O_PATH | O_DIRECTORY, shown_parent);
        if (!pdir)
            return std::unexpected(pdir.error());
        const std::string leaf = std::string(cgroup2_leaf_prefix) + environment;
        const std::string shown = shown_parent + "/" + leaf;
        // A concurrent collect_empty_leaves() may remove the leaf between mkdir and
        // the write (rmdir of an empty cgroup): create it again, a bounded number of
        // times.
        Result<> last = error("cannot register pid " + std::to_string(pid) + " in", shown, "leaf kept vanishing");
        for (int attempt = 0; attempt < 3; ++attempt) {
            if (::mkdirat(pdir->get(), leaf.c_str(), 0755) == 0) {
                if (::fchmodat(pdir->get(), leaf.c_str(), 0755, 0) != 0)
                    return sys_error("cannot set the mode of", shown);
            } else if (errno != EEXIST) {
                return sys_error("cannot create registration leaf", shown);
            }
            auto dir = open_below(pdir->get(), leaf, O_PATH | O_DIRECTORY, shown);
            if (!dir) {
                if (dir.error().err == ENOENT)
                    continue;
                return std::unexpected(dir.error());
            }
            // A user with a delegated subtree can pre-create "chos-<env>" there: it is
            // theirs, so it is refused, never adopted (SECURITY.md K2).
            if (auto ok = check_root_only(dir->get(), shown, true); !ok)
                return ok;
            auto procs = open_below(dir->get(), "cgroup.procs", O_WRONLY, shown + "/cgroup.procs");
            if (!procs) {
                if (procs.error().err == ENOENT || procs.error().err == ENODEV)
                    continue;
                return std::unexpected(procs.error());
            }
            last = write_pid(procs->get(), pid, shown + "/cgroup.procs");
            if (last || (last.error().err != ENODEV && last.error().err != ENOENT))
                break;
        }
        if (!last)
            return last;
    }

    // Read back what the daemon will read: the registration is only done when
    // /proc/<pid>/cgroup says so (a different hierarchy mounted at the path, or a
    // kernel that silently ignored the write, must not pass as success).
    auto m = membership(pid);
    if (!m)
        return std::unexpected(m.error());
    if (!m->registered || m->environment != environment)
        return error("registration did not take effect", environment,
                     "/proc/" + std::to_string(pid) + "/cgroup shows " +
                         (m->registered ? "'" + m->environment + "'" : std::string("no environment")));
    return {};
}

// ---- membership -------------------------------------------------------------------------

Result<Membership> Registry::membership(pid_t pid) const
{
    ProcCgroup proc;
    auto text = proc.read(pid);
    if (!text)
        return std::unexpected(text.error());
    if (type_ == RegistryType::cgroup1) {
        // No "name=<name>" line: the hierarchy is not mounted anywhere, or the read
        // was cut short. Either way nobody can be vouched for: fail closed.
        auto path = cgroup1_path(*text, name_);
        if (!path)
            return error("no registration line for pid", std::to_string(pid),
                         "'name=" + name_ + "' is missing from /proc/" + std::to_string(pid) + "/cgroup");
        auto m = membership_from_cgroup1(*path);
        if (!m)
            return error("malformed registration of pid", std::to_string(pid),
                         "cgroup '" + config::quote_for_message(*path) + "'");
        return *m;
    }
    auto path = cgroup2_path(*text);
    if (!path)
        return error("no cgroup2 line for pid", std::to_string(pid), "'0::' is missing");
    auto m = membership_from_cgroup2(*path);
    if (!m)
        return error("malformed registration of pid", std::to_string(pid),
                     "cgroup '" + config::quote_for_message(*path) + "'");
    if (m->registered) {
        // Only root makes leaves (the launcher, after the allow-list): a "chos-" leaf
        // owned by anyone else was made in a delegated subtree by its user (K2).
        // cgroup2 has no rename, so a root-owned leaf keeps the name root gave it.
        const std::string dir = cgroup2_root_ + (*path == "/" ? "" : *path);
        struct stat st {};
        if (::fstatat(AT_FDCWD, dir.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return sys_error("cannot stat registration leaf", dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
            return error("refusing registration of pid", std::to_string(pid),
                         "leaf '" + config::quote_for_message(*path) + "' is not a root-owned cgroup");
    }
    return *m;
}

// ---- chos-setup's side ---------------------------------------------------------------

Result<std::vector<std::string>> Registry::sync(const config::Config& config) const
{
    auto mounts = read_mounts();
    if (!mounts)
        return std::unexpected(mounts.error());
    const MountEntry* top = top_mount(*mounts, mount_);
    const bool automatic = config.registry.type == RegistryType::automatic;
    DetachOnFailure made; // disarmed only when sync() succeeds

    bool use_cgroup2 = type_ == RegistryType::cgroup2;
    if (top != nullptr) {
        if (is_named_cgroup1(*top, name_)) {
            if (type_ != RegistryType::cgroup1)
                return error("registry type mismatch", mount_, "a cgroup v1 registry is mounted there");
        } else if (is_cgroup2_root(*top)) {
            if (type_ == RegistryType::cgroup1 && !automatic)
                return error("registry type mismatch", mount_,
                             "a cgroup2 fallback is mounted there (run 'chos-setup stop' first)");
            use_cgroup2 = true;
        } else {
            return error("not the registry", mount_,
                         "a '" + top->fstype + "' file system is mounted there, not the 'name=" + name_ +
                             "' cgroup hierarchy");
        }
    } else {
        auto target = pin_mount_point(mount_);
        if (!target)
            return std::unexpected(target.error());
        if (!use_cgroup2) {
            auto mounted = mount_named_cgroup1(target->get(), name_, mount_);
            if (!mounted && !(automatic && is_refusal(mounted.error().err)))
                return std::unexpected(mounted.error());
            use_cgroup2 = !mounted; // rule 3 of the file comment
            if (mounted) {
                made.mount = std::move(*mounted);
                made.config = &config;
                made.armed = true;
            }
        }
        if (use_cgroup2) {
            auto source = system_cgroup2_root(*mounts, mount_);
            if (!source)
                return std::unexpected(source.error());
            auto bound = bind_cgroup2(target->get(), *source, mount_);
            if (!bound)
                return std::unexpected(bound.error());
            made.mount = std::move(*bound);
            made.armed = true;
        }
    }

    std::vector<std::string> busy;
    if (use_cgroup2) {
        // Leaves are per process tree and made on demand: nothing to create. Unused
        // ones are collected now (a configured-away environment's leaves go when
        // their processes have gone).
        auto reopened = Registry::open(config);
        if (!reopened)
            return std::unexpected(reopened.error());
        auto collected = reopened->collect_empty_leaves();
        if (!collected)
            return std::unexpected(collected.error());
        made.armed = false;
        return busy;
    }

    // Through the fd of the mount just made, if any: its path may have been swapped.
    auto root = made.mount ? Result<Fd>(Fd(::openat(made.mount.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC)))
                           : open_dir(mount_);
    if (root && !root->valid())
        return sys_error("cannot open the registry hierarchy", mount_);
    if (!root)
        return std::unexpected(root.error());
    if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
        return std::unexpected(ok.error());
    if (auto ok = check_root_only(root->get(), mount_, true); !ok)
        return std::unexpected(ok.error());
    for (const auto& env : config.environments) {
        const std::string shown = mount_ + "/" + env.name;
        if (::mkdirat(root->get(), env.name.c_str(), 0755) == 0) {
            // mkdir applied our umask; the mode is part of the contract (0755).
            if (::fchmodat(root->get(), env.name.c_str(), 0755, 0) != 0)
                return sys_error("cannot set the mode of", shown);
        } else if (errno != EEXIST) {
            return sys_error("cannot create environment cgroup", shown);
        }
        // An existing cgroup is only adopted when root alone can write it (K2).
        auto dir = open_below(root->get(), env.name, O_PATH | O_DIRECTORY, shown);
        if (!dir)
            return std::unexpected(dir.error());
        if (auto ok = check_root_only(dir->get(), shown, true); !ok)
            return std::unexpected(ok.error());
        for (const char* file : {"cgroup.procs", "tasks"}) {
            auto f = open_below(dir->get(), file, O_PATH, shown + "/" + file);
            if (!f)
                return std::unexpected(f.error());
            if (auto ok = check_root_only(f->get(), shown + "/" + file, false); !ok)
                return std::unexpected(ok.error());
        }
    }
    auto children = child_cgroups(root->get(), mount_);
    if (!children)
        return std::unexpected(children.error());
    for (const auto& name : *children) {
        if (config.find(name) != nullptr)
            continue;
        if (::unlinkat(root->get(), name.c_str(), AT_REMOVEDIR) == 0)
            continue;
        if (errno == EBUSY)
            busy.push_back(name); // still has processes: removed by a later sync
        else
            return sys_error("cannot remove environment cgroup", mount_ + "/" + name);
    }
    made.armed = false;
    return busy;
}

Result<std::size_t> Registry::count(const std::string& environment) const
{
    if (!config::is_valid_environment_name(environment))
        return error("cannot count", config::quote_for_message(environment),
                     "not a valid environment name (see chos.yaml(5))");
    if (type_ == RegistryType::cgroup1) {
        auto root = open_dir(mount_);
        if (!root)
            return std::unexpected(root.error());
        if (auto ok = check_fs(root->get(), CGROUP_SUPER_MAGIC, mount_, "cgroup v1"); !ok)
            return std::unexpected(ok.error());
        const std::string shown = mount_ + "/" + environment;
        auto dir = open_below(root->get(), environment, O_PATH | O_DIRECTORY, shown);
        if (!dir)
            return std::unexpected(dir.error());
        return count_procs(dir->get(), shown);
    }
    // cgroup2: the environment's leaves are spread over the tree (one per cgroup a
    // launch started from); add them all up.
    auto root = open_dir(cgroup2_root_);
    if (!root)
        return std::unexpected(root.error());
    std::size_t total = 0;
    auto add = [&](int dirfd, const std::string& name, const std::string& env, const std::string& path) -> Result<> {
        if (env != environment)
            return {};
        Fd leaf(openat2_fd(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, resolve_beneath));
        if (!leaf)
            return {}; // removed meanwhile
        auto n = count_procs(leaf.get(), path);
        if (n)
            total += *n;
        return {};
    };
    if (auto ok = walk_leaves(root->get(), cgroup2_root_, 0, add); !ok)
        return std::unexpected(ok.error());
    return total;
}

Result<std::size_t> Registry::collect_empty_leaves() const
{
    if (type_ == RegistryType::cgroup1)
        return std::size_t{0};
    auto root = open_dir(cgroup2_root_);
    if (!root)
        return std::unexpected(root.error());
    if (auto ok = check_fs(root->get(), CGROUP2_SUPER_MAGIC, cgroup2_root_, "cgroup2"); !ok)
        return std::unexpected(ok.error());
    std::size_t removed = 0;
    auto collect = [&](int dirfd, const std::string& name, const std::string&, const std::string& path) -> Result<> {
        // The kernel refuses to remove a populated cgroup (EBUSY), atomically: no
        // need to look at cgroup.procs first, and no race with a process entering.
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) == 0)
            ++removed;
        else if (errno != EBUSY && errno != ENOENT && errno != ENODEV)
            return sys_error("cannot remove registration leaf", path);
        return {};
    };
    if (auto ok = walk_leaves(root->get(), cgroup2_root_, 0, collect); !ok)
        return std::unexpected(ok.error());
    return removed;
}

Result<> Registry::teardown() const
{
    // A mount point swapped for a symlink (class C) is an error, never "not mounted
    // here": the registry may still be mounted where the real directory went.
    if (auto dir = open_dir(mount_); !dir && dir.error().err != ENOENT)
        return std::unexpected(dir.error());
    auto mounts = read_mounts();
    if (!mounts)
        return std::unexpected(mounts.error());
    const MountEntry* top = top_mount(*mounts, mount_);

    if (type_ == RegistryType::cgroup1) {
        if (top == nullptr || !is_named_cgroup1(*top, name_))
            return {}; // not mounted here: nothing of ours to tear down
        auto root = open_dir(mount_);
        if (!root)
            return std::unexpected(root.error());
        auto children = child_cgroups(root->get(), mount_);
        if (!children)
            return std::unexpected(children.error());
        std::vector<std::string> busy;
        for (const auto& name : *children) {
            if (::unlinkat(root->get(), name.c_str(), AT_REMOVEDIR) == 0)
                continue;
            if (errno != EBUSY)
                return sys_error("cannot remove environment cgroup", mount_ + "/" + name);
            auto dir = open_below(root->get(), name, O_PATH | O_DIRECTORY, mount_ + "/" + name);
            auto n = dir ? count_procs(dir->get(), mount_ + "/" + name) : Result<std::size_t>(0);
            busy.push_back(name + (n ? " (" + std::to_string(*n) + " processes)" : std::string()));
        }
        // A named hierarchy with child cgroups outlives its mounts: unmount only
        // once they are gone, so a later start finds a clean state.
        if (!busy.empty())
            return std::unexpected(Error{"environments still in use", mount_, EBUSY, "busy: " + join_names(busy)});
    } else {
        auto collected = collect_empty_leaves();
        if (!collected)
            return std::unexpected(collected.error());
        auto root = open_dir(cgroup2_root_);
        if (!root)
            return std::unexpected(root.error());
        std::size_t populated = 0;
        auto note = [&](int, const std::string&, const std::string&, const std::string&) -> Result<> {
            ++populated;
            return {};
        };
        if (auto ok = walk_leaves(root->get(), cgroup2_root_, 0, note); !ok)
            return ok;
        if (populated != 0)
            return std::unexpected(Error{"environments still in use", cgroup2_root_, EBUSY,
                                         std::to_string(populated) + " registration leaves still hold processes"});
        if (top == nullptr || !is_cgroup2_root(*top))
            return {};
    }
    if (::umount2(mount_.c_str(), UMOUNT_NOFOLLOW) != 0)
        return sys_error("cannot unmount the registry", mount_);
    if (type_ == RegistryType::cgroup1)
        return release_hierarchy();
    return {};
}

// The kernel destroys a named v1 hierarchy when its last mount goes *and* its root
// has no children at that moment (cgroup_kill_sb), and then only asynchronously. A
// cgroup just removed with rmdir stays on the children list until its references
// are gone, so an unmount right after the rmdirs leaves an empty hierarchy behind
// for good (measured here: still listed 10 s later; P5: nothing may accumulate).
// Mounting it again and unmounting once the children are really gone re-runs that
// check. So: wait for the hierarchy to leave /proc/self/cgroup; if it does not,
// mount and unmount it again, and wait again (measured: gone ~100 ms later).
Result<> Registry::release_hierarchy() const
{
    auto listed = [&]() -> Result<bool> {
        ProcCgroup proc;
        auto text = proc.read(::getpid());
        if (!text)
            return std::unexpected(text.error());
        return cgroup1_path(*text, name_).has_value();
    };
    for (int attempt = 0; attempt < 20; ++attempt) {
        for (int poll = 0; poll < 20; ++poll) { // up to ~200 ms
            auto l = listed();
            if (!l)
                return std::unexpected(l.error());
            if (!*l)
                return {};
            ::usleep(10000);
        }
        auto target = open_dir(mount_);
        if (!target)
            return std::unexpected(target.error());
        if (auto ok = mount_named_cgroup1(target->get(), name_, mount_); !ok)
            continue; // still dying: the kernel refuses or restarts the mount meanwhile
        // By path again: the pinned fd still names the directory under the mount.
        if (auto root = open_dir(mount_)) {
            auto children = child_cgroups(root->get(), mount_);
            if (children && !children->empty()) {
                (void)::umount2(mount_.c_str(), UMOUNT_NOFOLLOW);
                return error("cannot release the registry hierarchy", "name=" + name_,
                             "it has cgroups again: " + join_names(*children));
            }
        }
        if (::umount2(mount_.c_str(), UMOUNT_NOFOLLOW) != 0)
            return sys_error("cannot unmount the registry", mount_);
    }
    return error("cannot release the registry hierarchy", "name=" + name_,
                 "still listed in /proc/self/cgroup after unmounting (dying cgroups)");
}

} // namespace chos::registry
