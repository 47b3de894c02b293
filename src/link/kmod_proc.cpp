// The kernel module's interface (see kmod_proc.hpp and chos.ko(4)).
#include "link/kmod_proc.hpp"

#include "common/fd.hpp"
#include "common/layout.hpp"

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

namespace chos::link::kmod {

namespace {

// One write() of the whole text: the module takes /proc/chos/valid and setlink
// in a single write and never sees a partial one.
Result<> write_all_at_once(const char* path, const std::string& text)
{
    Fd fd(::open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return sys_error("cannot open", path);
    ssize_t n;
    do
        n = ::write(fd.get(), text.data(), text.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error("cannot write", path);
    if (static_cast<std::size_t>(n) != text.size())
        return error("cannot write", path, "short write");
    return {};
}

} // namespace

bool loaded()
{
    return ::access(proc_dir, F_OK) == 0;
}

bool mounted()
{
    return ::access(version_path, F_OK) == 0;
}

Result<> mount_proc()
{
    if (mounted())
        return {};
    if (!loaded())
        return error("the kernel module is not loaded", proc_dir, "run 'modprobe chos' (see chos.ko(4))");
    if (::mount("chos", proc_dir, "chos", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return sys_error("cannot mount the module's filesystem on", proc_dir);
    return {};
}

std::string target_for(const config::Config& config, const std::string& environment)
{
    return layout::environment_entry(config.tree, environment);
}

std::string unregistered_target(const config::Config& config)
{
    return layout::in_tree(config.tree, layout::host_root);
}

std::vector<std::string> valid_targets(const config::Config& config)
{
    std::vector<std::string> targets{unregistered_target(config)};
    for (const auto& environment : config.environments)
        targets.push_back(target_for(config, environment.name));
    return targets;
}

Result<> write_valid(const std::vector<std::string>& targets)
{
    std::string text;
    for (const auto& target : targets)
        text += target + "\n";
    return write_all_at_once(valid_path, text);
}

Result<> write_tree(const std::string& tree)
{
    return write_all_at_once(tree_path, tree + "\n");
}

Result<> forget_tree()
{
    return write_all_at_once(tree_path, "\n");
}

bool answers(const std::string& seen, const std::string& target, const std::string& tree)
{
    if (seen == target)
        return true;
    return target.size() > tree.size() + 1 && target.starts_with(tree) && target[tree.size()] == '/' &&
           seen == target.substr(tree.size());
}

Result<> set_link(const std::string& target, const std::string& tree)
{
    Fd fd(::open(setlink_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return sys_error("cannot open", setlink_path);
    ssize_t n;
    do
        n = ::write(fd.get(), target.data(), target.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == ENOENT)
            return error("the kernel module refused the link", target,
                         "not in /proc/chos/valid (run 'chos-setup reload')");
        return sys_error("the kernel module refused the link", target);
    }
    if (static_cast<std::size_t>(n) != target.size())
        return error("the kernel module refused the link", target, "short write");
    // Read it back: the only proof that this process now answers the new target.
    char buf[PATH_MAX];
    ssize_t len = ::readlink(link_path, buf, sizeof buf);
    if (len < 0)
        return sys_error("cannot read back the link", link_path);
    if (!answers(std::string(buf, static_cast<std::size_t>(len)), target, tree))
        return error("the kernel link did not change", link_path, "it still answers another target");
    return {};
}

} // namespace chos::link::kmod
