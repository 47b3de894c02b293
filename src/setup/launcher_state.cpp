// What chos-setup leaves for the launchers (see launcher_state.hpp).
#include "setup/launcher_state.hpp"

#include "chos_build_config.hpp"
#include "common/fd.hpp"
#include "common/file_io.hpp"
#include "config/snapshot.hpp"
#include "registry/registry.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr const char* snapshot_note = " (launches will parse the configuration)";
constexpr const char* record_note = " (launches will look the registry up themselves)";

// Is `config_path` the file the launcher reads (the same inode: a test's or an
// admin's file bound over CHOS_CONFIG_PATH counts)?
bool is_launcher_config(const std::string& config_path)
{
    struct stat ours {}, launchers {};
    return ::stat(config_path.c_str(), &ours) == 0 && ::stat(CHOS_CONFIG_PATH, &launchers) == 0 &&
           ours.st_dev == launchers.st_dev && ours.st_ino == launchers.st_ino;
}

struct SnapshotPlace {
    Fd dir;
    std::string dir_path;
    std::string name;
};

// The launcher's configuration directory, and the snapshot's name in it.
Result<SnapshotPlace> snapshot_place()
{
    const std::string path = config::snapshot_path_for(CHOS_CONFIG_PATH);
    const auto slash = path.rfind('/');
    SnapshotPlace place;
    place.dir_path = slash == 0 ? "/" : path.substr(0, slash);
    place.name = path.substr(slash + 1);
    place.dir.reset(::open(place.dir_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!place.dir)
        return sys_error("cannot open directory", place.dir_path);
    return place;
}

Result<> publish_snapshot(const Context& context)
{
    if (!is_launcher_config(context.config_path))
        return {};
    auto place = snapshot_place();
    if (!place)
        return std::unexpected(place.error());
    return platform::replace_file(place->dir.get(), place->name, config::encode_snapshot(context.config, context.text),
                                  0644, place->dir_path);
}

Result<> withdraw_snapshot(const Context& context)
{
    if (!is_launcher_config(context.config_path))
        return {};
    auto place = snapshot_place();
    if (!place)
        return std::unexpected(place.error());
    if (::unlinkat(place->dir.get(), place->name.c_str(), 0) != 0 && errno != ENOENT)
        return sys_error("cannot remove", place->dir_path + "/" + place->name);
    return {};
}

} // namespace

void publish_for_launchers(const Context& context, int run_dir_fd, Outcome& outcome)
{
    // A fresh open: what the registry resolved to now that it is synced.
    auto registry = registry::Registry::open(context.config);
    Result<> recorded = registry ? registry->record(run_dir_fd, context.config.run_dir)
                                 : Result<>(std::unexpected(registry.error()));
    if (!recorded)
        outcome.warn(recorded.error().str() + record_note);
    if (auto snapshot = publish_snapshot(context); !snapshot)
        outcome.warn("configuration snapshot: " + snapshot.error().str() + snapshot_note);
}

void withdraw_for_launchers(const Context& context, int run_dir_fd, Outcome& outcome)
{
    if (run_dir_fd >= 0)
        if (auto ok = registry::Registry::forget(run_dir_fd, context.config.run_dir); !ok)
            outcome.warn(ok.error().str());
    if (auto snapshot = withdraw_snapshot(context); !snapshot)
        outcome.warn("configuration snapshot: " + snapshot.error().str() + snapshot_note);
}

} // namespace chos::setup
