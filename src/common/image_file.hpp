// An environment's image file (chos.yaml(5) "image"; docs/images.md), opened so that
// what is checked is what the kernel later reads: the kernel's squashfs and EROFS
// drivers parse every byte of it, so only a file that the administrator alone can
// have written is ever handed to them (docs/threat-model.md, class H; Apptainer
// CVE-2023-30549, where a user's image reached the kernel's ext4 driver).
//
// The path is walked one component at a time from "/" with openat(O_NOFOLLOW): no
// symbolic link anywhere (not even the last component), every directory root's and not
// writable by group or others, and the file itself opened O_RDONLY|O_NOFOLLOW|O_CLOEXEC,
// a regular file owned by root and not writable by group or others. It must lie
// beneath one of the administrator's image directories. Every check is made on the
// opened descriptors (fstat, pread), never on a name; the descriptor is what gets
// mounted (image_mount.hpp).
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace chos::platform {

enum class ImageType { squashfs, erofs };
[[nodiscard]] std::string_view image_type_name(ImageType type) noexcept;

struct ImageFile {
    Fd fd;              // O_RDONLY|O_CLOEXEC: the checked file
    ImageType type = ImageType::squashfs;
    dev_t dev = 0;      // the file's device and inode: a replaced file is a new image
    ino_t ino = 0;
    off_t size = 0;
    struct timespec mtime {};
};

// Open and check the image at `path` (absolute, normalized), which must lie beneath
// one of `image_dirs`. On refusal: error("refusing image", path, <reason>), the
// reason one clause ("is owned by uid 1000, not root", "is a symbolic link",
// "is not a squashfs or EROFS image", "is truncated: the superblock says ... bytes").
[[nodiscard]] Result<ImageFile> open_image(const std::string& path, const std::vector<std::string>& image_dirs);

// The image's type and size, read from its superblock (open_image() calls it; for
// tests of the parser). A reason as above, or the type.
[[nodiscard]] Result<ImageType> image_superblock(int fd, off_t size, const std::string& shown);

} // namespace chos::platform
