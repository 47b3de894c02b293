// Which registry a configuration means, and mounting it (docs/architecture.md "The
// registry"). open() never mounts; sync() does.
//
// How `registry.type: auto` is resolved:
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
//      with it through rule 1, even where rule 2's guess was wrong. A Registry is a
//      value: after a sync() that fell back, open() again.
#include "registry/registry.hpp"

#include "common/file_io.hpp"
#include "common/mountinfo.hpp"
#include "registry/backend.hpp"
#include "registry/mounting.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

namespace chos::registry {

namespace {

using config::RegistryType;

std::optional<std::string> read_proc_text(const char* path)
{
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd)
        return std::nullopt;
    auto text = platform::read_all(fd.get(), 1024 * 1024, path);
    return text ? std::optional<std::string>(std::move(*text)) : std::nullopt;
}

// Rule 2 of the file comment.
bool kernel_offers_named_cgroup1()
{
    auto fs = read_proc_text("/proc/filesystems");
    if (!fs || fs->find("\tcgroup\n") == std::string::npos)
        return false;
    auto cmdline = read_proc_text("/proc/cmdline");
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
        if (platform::has_option(value, "all") || platform::has_option(value, "named"))
            return false;
    }
    return true;
}

std::unexpected<Error> foreign_mount(const config::Config& config, const platform::MountEntry& top)
{
    return error("not the registry", config.registry.mount,
                 "a '" + top.fstype + "' file system is mounted there, not the 'name=" + config.registry.name +
                     "' cgroup hierarchy");
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

} // namespace

Result<Registry> Registry::open(const config::Config& config)
{
    const std::string& mount = config.registry.mount;
    RegistryType type = config.registry.type;
    if (type == RegistryType::cgroup1)
        return Registry(config, make_cgroup1(config.registry.name, mount));

    auto mounts = platform::read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    const platform::MountEntry* top = platform::top_mount_at(*mounts, mount);
    if (top != nullptr && type == RegistryType::automatic) {
        if (is_named_cgroup1(*top, config.registry.name))
            return Registry(config, make_cgroup1(config.registry.name, mount));
        if (!is_cgroup2_root(*top))
            return foreign_mount(config, *top);
    }
    if (type == RegistryType::automatic && top == nullptr && kernel_offers_named_cgroup1())
        return Registry(config, make_cgroup1(config.registry.name, mount));
    if (top != nullptr && is_cgroup2_root(*top))
        return Registry(config, make_cgroup2(mount, mount));
    auto root = system_cgroup2_root(*mounts, mount);
    if (!root)
        return std::unexpected(root.error());
    return Registry(config, make_cgroup2(mount, *root));
}

Result<std::vector<std::string>> Registry::sync(const config::Config& config) const
{
    auto mounts = platform::read_mountinfo();
    if (!mounts)
        return std::unexpected(mounts.error());
    const platform::MountEntry* top = platform::top_mount_at(*mounts, mount_);
    const bool automatic = config.registry.type == RegistryType::automatic;
    DetachOnFailure made; // disarmed only when sync() succeeds

    bool use_cgroup2 = type() == RegistryType::cgroup2;
    if (top != nullptr) {
        if (is_named_cgroup1(*top, name_)) {
            if (type() != RegistryType::cgroup1)
                return error("registry type mismatch", mount_, "a cgroup v1 registry is mounted there");
        } else if (is_cgroup2_root(*top)) {
            if (type() == RegistryType::cgroup1 && !automatic)
                return error("registry type mismatch", mount_,
                             "a cgroup2 fallback is mounted there (run 'chos-setup stop' first)");
            use_cgroup2 = true;
        } else {
            return foreign_mount(config, *top);
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

    Result<std::vector<std::string>> busy;
    if (use_cgroup2) {
        // What was mounted may differ from what this value resolved to: ask again.
        auto reopened = Registry::open(config);
        if (!reopened)
            return std::unexpected(reopened.error());
        busy = reopened->backend_->populate(config, -1);
    } else {
        busy = backend_->populate(config, made.mount ? made.mount.get() : -1);
    }
    if (busy)
        made.armed = false;
    return busy;
}

} // namespace chos::registry
