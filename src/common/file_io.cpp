// Whole-file reads and writes (see file_io.hpp).
#include "common/file_io.hpp"

#include "common/fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::platform {

Result<std::string> read_all(int fd, std::size_t max, const std::string& shown)
{
    std::string text;
    std::array<char, 8192> chunk{};
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot read", shown);
        if (n == 0)
            return text;
        text.append(chunk.data(), static_cast<std::size_t>(n));
        if (text.size() > max)
            return error("cannot read", shown, "larger than " + std::to_string(max) + " bytes");
    }
}

Result<> write_all(int fd, std::string_view data, const std::string& shown)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot write", shown);
        if (n == 0)
            return error("cannot write", shown, "short write");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<> replace_file(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                      const std::string& shown_dir)
{
    const std::string temp = name + ".new";
    const std::string shown_temp = shown_dir + "/" + temp;
    (void)::unlinkat(dirfd, temp.c_str(), 0);
    Fd fd(::openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode));
    if (!fd)
        return sys_error("cannot create", shown_temp);
    auto written = [&]() -> Result<> {
        // The mode is part of the contract: not what the umask left of it.
        if (::fchmod(fd.get(), mode) != 0)
            return sys_error("cannot set the mode of", shown_temp);
        if (auto ok = write_all(fd.get(), data, shown_temp); !ok)
            return ok;
        if (::renameat(dirfd, temp.c_str(), dirfd, name.c_str()) != 0)
            return sys_error("cannot rename onto", shown_dir + "/" + name);
        return {};
    }();
    if (!written) {
        const int err = errno;
        (void)::unlinkat(dirfd, temp.c_str(), 0);
        errno = err;
    }
    return written;
}

Result<std::vector<DirectoryEntry>> read_directory(Fd dir, const std::string& shown)
{
    DIR* d = ::fdopendir(dir.get());
    if (d == nullptr)
        return sys_error("cannot read directory", shown);
    dir.release(); // closedir() closes it now
    std::vector<DirectoryEntry> entries;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..")
            continue;
        bool directory = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st {};
            directory = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        entries.push_back({std::string(name), directory});
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) {
        errno = err;
        return sys_error("cannot read directory", shown);
    }
    std::sort(entries.begin(), entries.end(),
              [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
    return entries;
}

} // namespace chos::platform
