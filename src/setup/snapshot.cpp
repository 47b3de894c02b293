#include "setup/snapshot.hpp"

#include "chos_build_config.hpp"
#include "common/fd.hpp"
#include "config/snapshot.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

// Is `config_path` the file the launcher reads (the same inode: a test's or an
// admin's file bound over CHOS_CONFIG_PATH counts)?
bool is_launcher_config(const std::string& config_path)
{
    struct stat ours {}, launchers {};
    return ::stat(config_path.c_str(), &ours) == 0 && ::stat(CHOS_CONFIG_PATH, &launchers) == 0 &&
           ours.st_dev == launchers.st_dev && ours.st_ino == launchers.st_ino;
}

Result<> write_all(int fd, std::string_view data, const std::string& shown)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return sys_error("cannot write", shown);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

} // namespace

Result<> publish_snapshot(const std::string& config_path, std::string_view text, const config::Config& config)
{
    if (!is_launcher_config(config_path))
        return {};
    const std::string path = config::snapshot_path_for(CHOS_CONFIG_PATH);
    std::string temp = path + ".XXXXXX";
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd)
        return sys_error("cannot create", temp);
    auto ok = [&]() -> Result<> {
        if (::fchmod(fd.get(), 0644) != 0)
            return sys_error("cannot set the mode of", temp);
        if (auto written = write_all(fd.get(), config::encode_snapshot(config, text), temp); !written)
            return written;
        if (::rename(temp.c_str(), path.c_str()) != 0)
            return sys_error("cannot rename onto", path);
        return {};
    }();
    if (!ok)
        ::unlink(temp.c_str());
    return ok;
}

Result<> withdraw_snapshot(const std::string& config_path)
{
    if (!is_launcher_config(config_path))
        return {};
    const std::string path = config::snapshot_path_for(CHOS_CONFIG_PATH);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return sys_error("cannot remove", path);
    return {};
}

} // namespace chos::setup
