// Environments from image files (see images.hpp).
#include "setup/images.hpp"

#include "common/image_mount.hpp"
#include "common/layout.hpp"
#include "common/root_only.hpp"
#include "setup/mounts.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <string_view>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace chos::setup {

namespace {

std::string images_shown(const config::Config& config)
{
    return config.run_dir + "/" + std::string(layout::images_dir_name);
}

// <run_dir>/images: root's, 0700 (only the gates lead into the images), made when
// `create`; nullopt when missing and not `create`.
Result<std::optional<Fd>> open_images_dir(const config::Config& config, bool create)
{
    auto run = platform::open_directory(config.run_dir);
    if (!run) {
        if (!create && run.error().err == ENOENT)
            return std::optional<Fd>();
        return std::unexpected(run.error());
    }
    const std::string name(layout::images_dir_name);
    const std::string shown = images_shown(config);
    if (create) {
        if (::mkdirat(run->get(), name.c_str(), 0700) != 0 && errno != EEXIST)
            return sys_error("cannot create directory", shown);
    }
    auto dir = platform::open_pinned(run->get(), name, O_RDONLY | O_DIRECTORY, platform::resolve_beneath, shown);
    if (!dir) {
        if (!create && dir.error().err == ENOENT)
            return std::optional<Fd>();
        return std::unexpected(dir.error());
    }
    if (auto ok = platform::check_root_only(dir->get(), platform::FileKind::directory, "refusing", shown); !ok)
        return std::unexpected(ok.error());
    if (::fchmod(dir->get(), 0700) != 0)
        return sys_error("cannot set the mode of", shown);
    return std::optional<Fd>(std::move(*dir));
}

std::vector<std::string> entries(int dir_fd)
{
    std::vector<std::string> names;
    const int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0)
        return names;
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return names;
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
    }
    ::closedir(d);
    return names;
}

// Does the environment's gate bind the mount whose root is `root`?
bool served(const Tree& tree, const std::string& environment, int root)
{
    const std::string gated = layout::gated_tree_of(environment);
    auto fd = open_beneath(tree.root.get(), gated, O_PATH | O_DIRECTORY, tree.shown(gated));
    if (!fd)
        return false;
    auto mounted = is_mount_root(fd->get(), tree.shown(gated));
    auto same = same_file(fd->get(), root);
    return mounted && *mounted && same && *same;
}

bool uses(const std::string& path, dev_t dev)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && st.st_dev == dev;
}

// A line of /proc/PID/maps names the device of a mapped file as "MAJ:MIN" (hex) in its
// fourth field.
bool maps_use(const std::string& path, dev_t dev)
{
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        unsigned long maj = 0, min = 0;
        if (std::sscanf(line.c_str(), "%*s %*s %*s %lx:%lx", &maj, &min) == 2 && maj == major(dev) &&
            min == minor(dev) && (maj != 0 || min != 0))
            return true;
    }
    return false;
}

bool process_uses(const std::string& proc, dev_t dev)
{
    if (uses(proc + "/root", dev) || uses(proc + "/cwd", dev) || uses(proc + "/exe", dev))
        return true;
    if (DIR* d = ::opendir((proc + "/fd").c_str())) {
        bool found = false;
        while (const dirent* e = ::readdir(d))
            if (e->d_name[0] != '.' && uses(proc + "/fd/" + e->d_name, dev)) {
                found = true;
                break;
            }
        ::closedir(d);
        if (found)
            return true;
    }
    return maps_use(proc + "/maps", dev);
}

} // namespace

std::string image_mount_name(const std::string& environment, dev_t dev, ino_t ino)
{
    return environment + "@" + std::to_string(dev) + ":" + std::to_string(ino);
}

Result<platform::ImageFile> open_environment_image(const config::Config& config,
                                                   const config::Environment& environment)
{
    auto image = platform::open_image(environment.image, config.image_dirs);
    if (!image) {
        Error e = image.error();
        e.what = "environment '" + environment.name + "': " + e.what;
        return std::unexpected(std::move(e));
    }
    return image;
}

Result<Fd> ensure_image_mount(const config::Config& config, const config::Environment& environment, UndoLog& undo,
                              BuildReport& report)
{
    auto image = open_environment_image(config, environment);
    if (!image)
        return std::unexpected(image.error());
    auto dir = open_images_dir(config, true);
    if (!dir)
        return std::unexpected(dir.error());
    const int images = (*dir)->get();
    const std::string name = image_mount_name(environment.name, image->dev, image->ino);
    const std::string shown = images_shown(config) + "/" + name;
    const bool made = ::mkdirat(images, name.c_str(), 0700) == 0;
    if (!made && errno != EEXIST)
        return sys_error("cannot create directory", shown);
    auto target = open_beneath(images, name, O_PATH | O_DIRECTORY, shown);
    if (!target)
        return std::unexpected(target.error());
    auto mounted = is_mount_root(target->get(), shown);
    if (!mounted)
        return std::unexpected(mounted.error());
    if (*mounted)
        return std::move(*target); // this version is mounted already (a reload, a repair)
    auto root = platform::mount_image(*image, environment.image, target->get(), shown);
    if (!root) {
        if (made)
            (void)::unlinkat(images, name.c_str(), AT_REMOVEDIR);
        return std::unexpected(root.error());
    }
    auto pinned = std::make_shared<Fd>(::fcntl(root->get(), F_DUPFD_CLOEXEC, 3));
    auto images_fd = std::make_shared<Fd>(::fcntl(images, F_DUPFD_CLOEXEC, 3));
    undo.add([pinned, images_fd, name, shown] {
        (void)detach(pinned->get(), shown);
        (void)::unlinkat(images_fd->get(), name.c_str(), AT_REMOVEDIR);
    });
    report.note("mounted image '" + environment.image + "' (" + std::string(platform::image_type_name(image->type)) +
                ") on '" + shown + "'");
    return std::move(*root);
}

std::size_t processes_using(dev_t dev)
{
    std::size_t n = 0;
    DIR* d = ::opendir("/proc");
    if (!d)
        return 0;
    const pid_t self = ::getpid();
    while (const dirent* e = ::readdir(d)) {
        pid_t pid = 0;
        const std::string_view name = e->d_name;
        if (std::from_chars(name.data(), name.data() + name.size(), pid).ec != std::errc{} || pid == self)
            continue;
        if (process_uses("/proc/" + std::string(name), dev))
            ++n;
    }
    ::closedir(d);
    return n;
}

Result<std::vector<ImageMount>> list_image_mounts(const config::Config& config, const Tree* tree)
{
    std::vector<ImageMount> found;
    auto dir = open_images_dir(config, false);
    if (!dir)
        return std::unexpected(dir.error());
    if (!*dir)
        return found;
    for (const auto& name : entries((*dir)->get())) {
        ImageMount m;
        m.name = name;
        m.environment = name.substr(0, name.find('@'));
        const std::string shown = images_shown(config) + "/" + name;
        auto fd = open_beneath((*dir)->get(), name, O_PATH | O_DIRECTORY, shown);
        if (fd) {
            auto mounted = is_mount_root(fd->get(), shown);
            m.mounted = mounted && *mounted;
            if (m.mounted) {
                m.serving = tree != nullptr && served(*tree, m.environment, fd->get());
                // Counted only for an old image: a served one stays whatever its users
                // (a scan of /proc per image would make a reload with many images slow).
                struct stat st {};
                if (!m.serving && ::fstat(fd->get(), &st) == 0)
                    m.users = processes_using(st.st_dev);
            }
        }
        found.push_back(std::move(m));
    }
    return found;
}

Result<std::vector<ImageMount>> sweep_image_mounts(const config::Config& config, const Tree* tree,
                                                   BuildReport& report)
{
    std::vector<ImageMount> kept;
    auto mounts = list_image_mounts(config, tree);
    if (!mounts)
        return std::unexpected(mounts.error());
    if (mounts->empty())
        return kept;
    auto dir = open_images_dir(config, false);
    if (!dir)
        return std::unexpected(dir.error());
    if (!*dir)
        return kept;
    for (auto& m : *mounts) {
        if (m.serving || m.users != 0) {
            kept.push_back(std::move(m));
            continue;
        }
        const std::string shown = images_shown(config) + "/" + m.name;
        if (m.mounted) {
            auto fd = open_beneath((*dir)->get(), m.name, O_PATH | O_DIRECTORY, shown);
            if (!fd)
                return std::unexpected(fd.error());
            if (auto ok = detach(fd->get(), shown); !ok)
                return std::unexpected(ok.error());
            report.note("unmounted image '" + shown + "' (no process uses it)");
        }
        if (::unlinkat((*dir)->get(), m.name.c_str(), AT_REMOVEDIR) != 0)
            return sys_error("cannot remove", shown);
    }
    return kept;
}

} // namespace chos::setup
