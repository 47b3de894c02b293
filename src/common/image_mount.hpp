// Mounting a checked image file (image_file.hpp) read-only, nosuid, nodev onto a pinned
// directory, from its descriptor -- never from its name (docs/images.md):
//   EROFS     the kernel's file-backed mount (Linux >= 6.12), source /proc/self/fd/N;
//   squashfs  a loop device configured in one LOOP_CONFIGURE from the descriptor,
//             read-only and autoclear: the device is released by the kernel when
//             the last mount of the file system goes (nothing for anyone to clean up),
//             and at once when the mount fails.
// Follows mount_ops.hpp's rule: the attributes are set on the detached mount, and it is
// attached to the target's descriptor.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/image_file.hpp"

#include <string>

namespace chos::platform {

// Mount `image` onto `target_fd`. Returns the new mount's root fd.
[[nodiscard]] Result<Fd> mount_image(const ImageFile& image, const std::string& shown_image, int target_fd,
                                     const std::string& shown_target);

} // namespace chos::platform
