// The kmod backend: the link is chos.ko's (chos.ko(4)), no daemon.
//
// chos-setup mounts the module's file system on /proc/chos before the tree binds /proc
// (so the chroot's /proc carries it: the launcher sets its link from inside), and on
// <tree>/.chos/fs, so .chos/fs/link is the module's link and the OS links keep
// chos-linkfs's shape; /proc/chos/valid lists the targets a launcher may set and
// /proc/chos/tree names the tree (kmod_proc.hpp). The launcher registers in the cgroup
// as with every backend, then writes its target to /proc/chos/setlink and reads the
// link back: a refused write fails the launch, never a silent stay in the previous
// environment.
#include "link/backend.hpp"

#include "common/layout.hpp"
#include "common/mount_ops.hpp"
#include "common/pinned_open.hpp"
#include "link/kmod_proc.hpp"

#include <algorithm>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace chos::link {

namespace {

// The module's file system ("CHOS"), as kmod/chos_fs.c defines it.
constexpr decltype(statfs::f_type) chos_super_magic = 0x43484f53;

// "/chos" -> "chos"; empty when the path has more than one component.
std::string single_component(const std::string& path)
{
    if (path.size() < 2 || path[0] != '/' || path.find('/', 1) != std::string::npos)
        return {};
    return path.substr(1);
}

// The module's file system on "<tree>/.chos/fs" (a bind of /proc/chos: one
// superblock), so ".chos/fs/link" is the module's link itself and the OS links
// "<d>" -> ".chos/fs/link/<d>" reach it in one hop, the same shape as with
// chos-linkfs. The same link through /proc/chos measured ~1.4 x slower (W2 in
// docs/benchmarks.md; likely procfs' dentry revalidation ending the lockless path
// walk). Kept when it is there already.
Result<> mount_link_directory(const SetupPlace& place)
{
    const std::string dir(layout::link_dir);
    const std::string shown = layout::in_tree(place.tree, dir);
    auto target = platform::open_pinned(place.tree_root, dir, O_PATH | O_DIRECTORY, platform::resolve_beneath, shown);
    if (!target)
        return std::unexpected(target.error());
    struct statfs sfs {};
    if (::fstatfs(target->get(), &sfs) != 0)
        return sys_error("cannot statfs", shown);
    if (sfs.f_type == chos_super_magic)
        return {};
    auto source = platform::open_source(kmod::proc_dir);
    if (!source)
        return std::unexpected(source.error());
    if (::fstatfs(source->get(), &sfs) != 0)
        return sys_error("cannot statfs", kmod::proc_dir);
    if (sfs.f_type != chos_super_magic)
        return error("not the kernel module's filesystem", kmod::proc_dir, "is another mount on it?");
    platform::BindAttributes attributes;
    attributes.recursive = false;
    attributes.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    attributes.propagation = MS_PRIVATE;
    auto mounted = platform::bind_onto(source->get(), kmod::proc_dir, target->get(), shown, attributes);
    if (!mounted)
        return std::unexpected(mounted.error());
    return {};
}

class Kmod final : public Backend {
public:
    std::string_view name() const noexcept override { return "kmod"; }

    Result<> check(const config::Config&) const override
    {
        if (!kmod::loaded())
            return error("backend 'kmod'", kmod::proc_dir, "the chos kernel module is not loaded (see chos.ko(4))");
        return {};
    }

    // Absolute targets need /proc bound into the tree and a one-component tree path
    // the tree can alias to "/".
    Result<> prepare(const config::Config& config) const override
    {
        const std::string name = single_component(config.tree);
        if (name.empty() || name == "." || name == "..")
            return error("unsupported tree for the kmod backend", config.tree,
                         "the kernel link's absolute targets need a tree directly under / (e.g. /chos)");
        if (std::find(config.os_dirs.begin(), config.os_dirs.end(), name) != config.os_dirs.end())
            return error("unsupported tree for the kmod backend", config.tree, "its name is also in os_dirs");
        const bool proc_bound = std::any_of(config.binds.begin(), config.binds.end(),
                                            [](const config::BindMount& bind) { return bind.target == "/proc"; });
        if (!proc_bound)
            return error("the kmod backend needs /proc inside the tree", "bind",
                         "add /proc to 'bind:' (the link is /proc/chos/link)");
        return kmod::mount_proc();
    }

    Result<Report> serve(const SetupPlace& place, const config::Config& config) const override
    {
        if (auto ok = mount_link_directory(place); !ok)
            return std::unexpected(ok.error());
        // The targets are "<tree>/.chos/os/<env>": inside the chroot "<tree>" must lead
        // back to the tree's root, as "chos -> /" does for the default tree.
        const std::string name = single_component(config.tree);
        if (auto ok = platform::ensure_symlink_at(place.tree_root, name, "/", layout::in_tree(place.tree, name)); !ok)
            return std::unexpected(ok.error());
        if (auto ok = kmod::write_valid(kmod::valid_targets(config)); !ok)
            return std::unexpected(ok.error());
        // Readers chrooted into the tree get the short targets ("/.chos/os/<env>").
        if (auto ok = kmod::write_tree(config.tree); !ok)
            return std::unexpected(ok.error());
        Report report;
        report.note("kernel link: " + std::string(kmod::valid_path) + " lists " +
                    std::to_string(config.environments.size()) + " environments");
        return report;
    }

    // The module keeps the tree's directory to compare readers' roots with: it lets go
    // of it here.
    Result<Report> release(const SetupPlace&, const config::Config&) const override
    {
        Report report;
        if (!kmod::mounted())
            return report;
        if (auto ok = kmod::forget_tree(); !ok)
            report.warn(ok.error().str() + " (the module keeps the unmounted tree until /proc/chos is unmounted)");
        return report;
    }

    Status status(const SetupPlace&, const config::Config&) const override
    {
        Status status;
        status.healthy = kmod::mounted();
        status.lines.emplace_back("daemon", status.healthy ? "none (kernel module; /proc/chos mounted)"
                                                           : "none (kernel module): /proc/chos not mounted");
        return status;
    }

    Result<> after_register(const config::Config& config, const config::Environment& env,
                            const Prior&) const override
    {
        return kmod::set_link(kmod::target_for(config, env.name), config.tree);
    }
};

} // namespace

const Backend& kmod_backend()
{
    static const Kmod backend;
    return backend;
}

} // namespace chos::link
