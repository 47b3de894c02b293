// Step 6: record the caller's environment, after making sure the link will answer.
#include "enter/steps.hpp"

#include "common/fd.hpp"
#include "registry/kmod_link.hpp"
#include "registry/registry.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <string_view>
#include <unistd.h>

namespace chos::enter {

namespace {

// Read a small file (at most max bytes) with O_NOFOLLOW|O_CLOEXEC.
std::optional<std::string> read_small(const std::string& path, std::size_t max = 4096)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd)
        return std::nullopt;
    std::string text(max, '\0');
    std::size_t have = 0;
    while (have < max) {
        ssize_t n = ::read(fd.get(), text.data() + have, max - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return std::nullopt;
        if (n == 0)
            break;
        have += static_cast<std::size_t>(n);
    }
    text.resize(have);
    return text;
}

constexpr const char* not_running = "chos-linkfs is not running (see 'chos-setup status')";

} // namespace

config::Backend backend_in_use(const config::Config& config)
{
    if (config.backend != config::Backend::automatic)
        return config.backend;
    // The module's filesystem is mounted on /proc/chos only by a kmod chos-setup.
    return registry::kmod::mounted() ? config::Backend::kmod : config::Backend::fuse;
}

Result<> check_linkfs_alive(const config::Config& config)
{
    const std::string pid_file = config.run_dir + "/linkfs.pid";
    auto text = read_small(pid_file, 64);
    if (!text)
        return error(not_running, "", "");
    pid_t pid = 0;
    std::string_view digits(*text);
    while (!digits.empty() && (digits.back() == '\n' || digits.back() == ' '))
        digits.remove_suffix(1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0)
        return error(not_running, "", "");
    // One read: "pid (comm) S ...": the name between the first '(' and the last ')',
    // the state right after.
    auto stat = read_small("/proc/" + std::to_string(pid) + "/stat");
    if (!stat)
        return error(not_running, "", "");
    const auto open = stat->find('(');
    const auto close = stat->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open || close + 2 >= stat->size() ||
        std::string_view(*stat).substr(open + 1, close - open - 1) != "chos-linkfs")
        return error(not_running, "", "");
    char state = (*stat)[close + 2];
    if (state == 'T' || state == 't' || state == 'Z' || state == 'X')
        return error(not_running, "", ""); // SIGSTOPped: a launch would hang on the link
    return {};
}

Result<> register_process(const config::Config& config, const config::Environment& env)
{
    const bool fuse = backend_in_use(config) == config::Backend::fuse;
    if (fuse) {
        if (auto alive = check_linkfs_alive(config); !alive)
            return alive;
    }
    auto registry = registry::Registry::open_recorded(config);
    if (!registry)
        return std::unexpected(registry.error());
    const pid_t self = ::getpid();
    // exec keeps the pid: the shell that exec'd us may be cached by chos-linkfs in
    // its old environment. It caches registered callers only, and in a cgroup1
    // registry nothing but CHOS moves a process: coming from the host, there is
    // nothing to forget.
    bool may_be_cached = true;
    if (fuse && registry->type() == config::RegistryType::cgroup1) {
        auto before = registry->membership(self);
        may_be_cached = !before || before->registered;
    }
    if (auto entered = registry->enter(self, env.name); !entered)
        return entered;
    // The module answers from its own per-task link: a refused setlink is an
    // error, never a silent stay in the previous environment.
    if (!fuse)
        return registry::kmod::set_link(registry::kmod::target_for(config, env.name), config.tree);
    if (!may_be_cached)
        return {};
    // A lookup of "flush" drops our entry and answers ENOENT (HACKING.md).
    const std::string flush = config.tree + "/.chos/fs/flush";
    if (::faccessat(AT_FDCWD, flush.c_str(), F_OK, 0) == 0)
        return error("cannot flush the link cache", flush, "it exists (is chos-linkfs mounted?)");
    if (errno != ENOENT) {
        if (errno == ENOTCONN || errno == ECONNABORTED)
            return error(not_running, "", "");
        return sys_error("cannot flush the link cache", flush);
    }
    return {};
}

} // namespace chos::enter
