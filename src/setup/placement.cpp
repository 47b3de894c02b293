// Where chos-setup mounts and writes (see placement.hpp).
#include "setup/placement.hpp"

#include "common/fd.hpp"
#include "common/layout.hpp"
#include "common/mount_ops.hpp"
#include "common/trusted_path.hpp"
#include "setup/tree.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace chos::setup {

namespace {

// The host's own directories (the FHS and Debian's): never a place for CHOS's mounts.
constexpr std::array<std::string_view, 52> system_directories = {
    "/",          "/bin",          "/boot",         "/dev",          "/etc",        "/home",
    "/lib",       "/lib32",        "/lib64",        "/libx32",       "/media",      "/mnt",
    "/opt",       "/proc",         "/root",         "/run",          "/sbin",       "/srv",
    "/sys",       "/tmp",          "/usr",          "/var",          "/usr/bin",    "/usr/games",
    "/usr/include", "/usr/lib",    "/usr/lib32",    "/usr/lib64",    "/usr/libexec", "/usr/libx32",
    "/usr/local", "/usr/sbin",     "/usr/share",    "/usr/src",      "/var/backups", "/var/cache",
    "/var/lib",   "/var/local",    "/var/lock",     "/var/log",      "/var/mail",   "/var/opt",
    "/var/run",   "/var/spool",    "/var/tmp",      "/run/lock",     "/run/shm",    "/run/user",
    "/run/systemd", "/sys/fs/cgroup", "/dev/shm",   "/dev/pts",
};

bool under(std::string_view path, std::string_view dir)
{
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

bool is_system_directory(std::string_view path, bool registry)
{
    if (std::find(system_directories.begin(), system_directories.end(), path) != system_directories.end())
        return true;
    // The kernel's file systems: nothing of CHOS's lives there, but for the registry a
    // directory of the cgroup file system.
    if (registry && under(path, "/sys/fs/cgroup"))
        return false;
    return under(path, "/proc") || under(path, "/sys") || under(path, "/dev");
}

struct Listing {
    std::vector<std::string> names; // without "." and ".."
    std::vector<std::string> directories;
};

std::optional<Listing> list(int fd)
{
    const int dup = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0)
        return std::nullopt;
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return std::nullopt;
    }
    Listing out;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..")
            continue;
        out.names.emplace_back(name);
        if (e->d_type == DT_DIR)
            out.directories.emplace_back(name);
    }
    ::closedir(d);
    return out;
}

std::string first_names(const std::vector<std::string>& names)
{
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < 3; ++i)
        text += (i ? ", '" : "'") + names[i] + "'";
    return text + (names.size() > 3 ? ", ..." : "");
}

enum class Place { tree, run_dir, registry };

// The problem with `path` as a place of this kind (" is ..." or ": ..."), or nullopt.
std::optional<std::string> place_problem(const std::string& path, Place place)
{
    if (is_system_directory(path, place == Place::registry))
        return " is a system directory";
    if (auto problem = platform::path_problem(path.substr(0, path.rfind('/') ? path.rfind('/') : 1)))
        return ": " + *problem;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return errno == ENOENT ? std::nullopt : std::optional<std::string>(": " + std::string(std::strerror(errno)));
    if (S_ISLNK(st.st_mode))
        return " is a symbolic link (chos-setup follows none here)";
    if (!S_ISDIR(st.st_mode))
        return " is not a directory";
    if (place == Place::tree) {
        auto tree = find_tree(path);
        if (tree && *tree)
            return std::nullopt; // the tree CHOS mounted
    }
    Fd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd)
        return ": " + std::string(std::strerror(errno));
    auto mounted = platform::is_mount_root(fd.get(), path);
    if (place == Place::registry && mounted && *mounted)
        return std::nullopt; // the registry tells its own hierarchy from another
    if (place == Place::tree && mounted && *mounted)
        return " has a file system mounted on it that is not a CHOS tree";
    auto entries = list(fd.get());
    if (!entries)
        return " cannot be listed: " + std::string(std::strerror(errno));
    struct statfs sfs {};
    if (place == Place::registry && ::fstatfs(fd.get(), &sfs) == 0 &&
        (sfs.f_type == CGROUP2_SUPER_MAGIC || sfs.f_type == CGROUP_SUPER_MAGIC)) {
        // A cgroup: its control files are its own; an empty leaf is a place.
        if (!entries->directories.empty())
            return " is a cgroup with child cgroups (" + first_names(entries->directories) + ")";
        return std::nullopt;
    }
    if (place == Place::run_dir) {
        const auto ours = [](const std::string& name) {
            for (std::string_view file : layout::run_dir_files)
                if (name == file || name == std::string(file) + ".new")
                    return true;
            return false;
        };
        std::erase_if(entries->names, ours);
    }
    if (!entries->names.empty())
        return " is not empty (" + first_names(entries->names) + ") and not " +
               (place == Place::run_dir ? "a run directory of CHOS's" : "made by CHOS");
    return std::nullopt;
}

} // namespace

std::vector<std::string> placement_problems(const config::Config& config)
{
    std::vector<std::string> problems;
    const auto add = [&](const char* key, const std::string& path, Place place) {
        if (auto problem = place_problem(path, place))
            problems.push_back(std::string(key) + " '" + path + "'" + *problem);
    };
    add("tree", config.tree, Place::tree);
    add("run_dir", config.run_dir, Place::run_dir);
    add("registry mount", config.registry.mount, Place::registry);
    return problems;
}

} // namespace chos::setup
