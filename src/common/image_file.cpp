// Opening and checking an image file (see image_file.hpp).
#include "common/image_file.hpp"

#include "common/root_only.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::platform {

namespace {

constexpr const char* refusing = "refusing image";

// Superblock fields (little-endian on disk): squashfs 4.0 (Documentation/filesystems/
// squashfs.rst, "bytes_used" at 40), EROFS (its magic at byte 1024, blkszbits at
// 1024+12, blocks at 1024+36).
constexpr std::uint32_t squashfs_magic = 0x73717368; // "hsqs"
constexpr off_t squashfs_bytes_used = 40;
constexpr off_t squashfs_major = 28;
constexpr std::uint32_t erofs_magic = 0xE0F5E1E2;
constexpr off_t erofs_offset = 1024;

template <typename T>
bool read_le(int fd, off_t offset, T& out)
{
    T raw{};
    if (::pread(fd, &raw, sizeof raw, offset) != static_cast<ssize_t>(sizeof raw))
        return false;
    if constexpr (sizeof(T) == 2)
        out = le16toh(raw);
    else if constexpr (sizeof(T) == 4)
        out = le32toh(raw);
    else if constexpr (sizeof(T) == 8)
        out = le64toh(raw);
    else
        out = raw;
    return true;
}

bool beneath(const std::string& path, const std::string& dir)
{
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

} // namespace

std::string_view image_type_name(ImageType type) noexcept
{
    return type == ImageType::erofs ? "erofs" : "squashfs";
}

Result<ImageType> image_superblock(int fd, off_t size, const std::string& shown)
{
    std::uint32_t magic = 0;
    if (size >= 96 && read_le(fd, 0, magic) && magic == squashfs_magic) {
        std::uint16_t major = 0;
        std::uint64_t used = 0;
        if (!read_le(fd, squashfs_major, major) || !read_le(fd, squashfs_bytes_used, used))
            return sys_error("cannot read", shown);
        if (major != 4)
            return error(refusing, shown, "is a squashfs of version " + std::to_string(major) + ", not 4");
        if (used > static_cast<std::uint64_t>(size))
            return error(refusing, shown, "is truncated: its superblock says " + std::to_string(used) +
                                              " bytes, the file has " + std::to_string(size));
        return ImageType::squashfs;
    }
    if (size >= erofs_offset + 128 && read_le(fd, erofs_offset, magic) && magic == erofs_magic) {
        std::uint8_t blkszbits = 0;
        std::uint32_t blocks = 0;
        if (!read_le(fd, erofs_offset + 12, blkszbits) || !read_le(fd, erofs_offset + 36, blocks))
            return sys_error("cannot read", shown);
        if (blkszbits < 9 || blkszbits > 16)
            return error(refusing, shown, "is an EROFS image with a block size of 2^" +
                                              std::to_string(blkszbits) + " bytes");
        const std::uint64_t needed = static_cast<std::uint64_t>(blocks) << blkszbits;
        if (needed > static_cast<std::uint64_t>(size))
            return error(refusing, shown, "is truncated: its superblock says " + std::to_string(needed) +
                                              " bytes, the file has " + std::to_string(size));
        return ImageType::erofs;
    }
    return error(refusing, shown, "is not a squashfs or EROFS image");
}

Result<ImageFile> open_image(const std::string& path, const std::vector<std::string>& image_dirs)
{
    if (path.size() < 2 || path.front() != '/' || path.back() == '/')
        return error(refusing, path, "is not an absolute path of a file");
    if (std::none_of(image_dirs.begin(), image_dirs.end(), [&](const std::string& d) { return beneath(path, d); }))
        return error(refusing, path, "is not beneath any of image_dirs");
    Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        return sys_error("cannot open", "/");
    std::string shown = "/";
    std::size_t start = 1;
    for (;;) {
        // The directory a name is looked up in: root's, written by nobody else.
        struct stat dst {};
        if (::fstat(dir.get(), &dst) != 0)
            return sys_error("cannot stat", shown);
        // A sticky directory others may write (/tmp) only holds root's entries safely:
        // nobody else can rename or remove them (common/trusted_path.hpp's rule).
        if (auto problem = ownership_problem(dst, FileKind::directory, OwnerRule{0, false, true}))
            return error(refusing, path, "lies in '" + shown + "', which " + *problem);
        const bool sticky_shared = (dst.st_mode & (S_IWGRP | S_IWOTH)) != 0;
        const std::size_t slash = path.find('/', start);
        const std::string name = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        const std::string here = (shown == "/" ? "" : shown) + "/" + name;
        if (slash == std::string::npos) {
            // O_NONBLOCK: a FIFO put there must not hang the open.
            Fd file(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
            if (!file) {
                if (errno == ELOOP)
                    return error(refusing, path, "is a symbolic link (an image is named by its own path)");
                return sys_error(refusing, path);
            }
            struct stat st {};
            if (::fstat(file.get(), &st) != 0)
                return sys_error("cannot stat", path);
            if (auto problem = ownership_problem(st, FileKind::regular))
                return error(refusing, path, std::move(*problem));
            (void)sticky_shared; // the file is root's: the sticky bit protects it
            const int flags = ::fcntl(file.get(), F_GETFL);
            if (flags < 0 || ::fcntl(file.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
                return sys_error("cannot use", path);
            auto type = image_superblock(file.get(), st.st_size, path);
            if (!type)
                return std::unexpected(type.error());
            ImageFile image;
            image.fd = std::move(file);
            image.type = *type;
            image.dev = st.st_dev;
            image.ino = st.st_ino;
            image.size = st.st_size;
            image.mtime = st.st_mtim;
            return image;
        }
        Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            if (errno == ELOOP || errno == ENOTDIR) {
                struct stat lst {};
                if (::fstatat(dir.get(), name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
                    return error(refusing, path, "'" + here + "' is a symbolic link (an image is named by its own path)");
            }
            return error(refusing, path, "'" + here + "': " + std::strerror(errno));
        }
        if (sticky_shared) {
            struct stat nst {};
            if (::fstat(next.get(), &nst) != 0)
                return sys_error("cannot stat", here);
            if (nst.st_uid != 0)
                return error(refusing, path, "lies in '" + here + "', owned by uid " + std::to_string(nst.st_uid) +
                                                 " in the shared directory '" + shown + "'");
        }
        dir = std::move(next);
        shown = here;
        start = slash + 1;
    }
}

} // namespace chos::platform
