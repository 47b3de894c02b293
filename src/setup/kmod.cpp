// chos-setup's kmod backend (see kmod.hpp).
#include "setup/kmod.hpp"

#include "registry/kmod_link.hpp"
#include "setup/mounts.hpp"

#include <algorithm>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/statfs.h>

namespace chos::setup {

namespace {

inline constexpr const char* link_directory = ".chos/fs";
// The module's filesystem ("CHOS"), as kmod/chos_fs.c defines it.
inline constexpr decltype(statfs::f_type) chos_super_magic = 0x43484f53;

// "/chos" -> "chos"; empty when the path has more than one component.
std::string single_component(const std::string& path)
{
    if (path.size() < 2 || path[0] != '/' || path.find('/', 1) != std::string::npos)
        return {};
    return path.substr(1);
}

// The module's filesystem on "<tree>/.chos/fs" (a bind of /proc/chos: one
// superblock), so ".chos/fs/link" is the module's link itself and the OS links
// "<d>" -> ".chos/fs/link/<d>" reach it in one hop, the same shape as with
// chos-linkfs. The same link through /proc/chos measured ~1.4 x slower (W2 in
// bench/README.md; likely procfs' dentry revalidation ending the lockless path
// walk). Kept when it is there already.
Result<> mount_link_directory(const Tree& tree)
{
    const std::string shown = tree.shown(link_directory);
    auto target = open_beneath(tree.root.get(), link_directory, O_PATH | O_DIRECTORY, shown);
    if (!target)
        return std::unexpected(target.error());
    struct statfs sfs {};
    if (::fstatfs(target->get(), &sfs) != 0)
        return sys_error("cannot statfs", shown);
    if (sfs.f_type == chos_super_magic)
        return {};
    auto source = open_source(registry::kmod::proc_dir);
    if (!source)
        return std::unexpected(source.error());
    if (::fstatfs(source->get(), &sfs) != 0)
        return sys_error("cannot statfs", registry::kmod::proc_dir);
    if (sfs.f_type != chos_super_magic)
        return error("not the kernel module's filesystem", registry::kmod::proc_dir, "is another mount on it?");
    BindAttributes attributes;
    attributes.recursive = false;
    attributes.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    attributes.propagation = MS_PRIVATE;
    auto mounted = bind_onto(source->get(), registry::kmod::proc_dir, target->get(), shown, attributes);
    if (!mounted)
        return std::unexpected(mounted.error());
    return {};
}

} // namespace

bool uses_kmod(const config::Config& config)
{
    return config.backend == config::Backend::kmod ||
           (config.backend == config::Backend::automatic && registry::kmod::loaded());
}

Result<> prepare_kmod(const config::Config& config)
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
    return registry::kmod::mount_proc();
}

Result<> finish_kmod(const Tree& tree, const config::Config& config, BuildReport& report)
{
    if (auto ok = mount_link_directory(tree); !ok)
        return ok;
    // The targets are "<tree>/.chos/os/<env>": inside the chroot "<tree>" must lead
    // back to the tree's root, as "chos -> /" does for the default tree.
    const std::string name = single_component(config.tree);
    if (auto ok = ensure_symlink(tree, "", name, "/"); !ok)
        return ok;
    if (auto ok = registry::kmod::write_valid(registry::kmod::valid_targets(config)); !ok)
        return ok;
    // Readers chrooted into the tree get the short targets ("/.chos/os/<env>").
    if (auto ok = registry::kmod::write_tree(config.tree); !ok)
        return ok;
    report.note("kernel link: " + std::string(registry::kmod::valid_path) + " lists " +
                std::to_string(config.environments.size()) + " environments");
    return {};
}

Result<> release_kmod(const config::Config& config)
{
    if (!uses_kmod(config) || !registry::kmod::mounted())
        return {};
    return registry::kmod::forget_tree();
}

} // namespace chos::setup
