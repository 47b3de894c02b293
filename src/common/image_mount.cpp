// Mounting an image file (see image_mount.hpp).
#include "common/image_mount.hpp"

#include "common/mount_ops.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/mount.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace chos::platform {

namespace {

constexpr std::uint64_t image_attributes = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

std::string fd_source(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

// A free loop device configured read-only and autoclear on `file_fd`: the open device.
Result<Fd> configure_loop(int file_fd, const std::string& shown_image)
{
    Fd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!control)
        return sys_error("cannot open", "/dev/loop-control");
    // Another process may take the free device between GET_FREE and CONFIGURE (EBUSY):
    // ask again, a bounded number of times.
    for (int attempt = 0; attempt < 64; ++attempt) {
        const int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
        if (n < 0)
            return sys_error("cannot get a free loop device for", shown_image);
        const std::string device = "/dev/loop" + std::to_string(n);
        Fd loop(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
        if (!loop)
            return sys_error("cannot open", device);
        loop_config config{};
        config.fd = static_cast<__u32>(file_fd);
        config.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
        // What `losetup -l` shows as the backing file (truncated by the kernel's 64 bytes).
        const std::size_t n_name = std::min(shown_image.size(), sizeof config.info.lo_file_name - 1);
        std::copy_n(shown_image.data(), n_name, reinterpret_cast<char*>(config.info.lo_file_name));
        if (::ioctl(loop.get(), LOOP_CONFIGURE, &config) == 0)
            return loop;
        if (errno != EBUSY)
            return sys_error("cannot configure " + device + " for", shown_image);
    }
    return error("cannot configure a loop device for", shown_image, "every free device was taken first");
}

} // namespace

Result<Fd> mount_image(const ImageFile& image, const std::string& shown_image, int target_fd,
                       const std::string& shown_target)
{
    const char* type = image.type == ImageType::erofs ? "erofs" : "squashfs";
    if (image.type == ImageType::erofs) {
        const std::string source = fd_source(image.fd.get());
        auto mounted = mount_new(type, {{"source", source.c_str()}, {"ro", nullptr}}, image_attributes, target_fd,
                                 shown_target);
        // ENOTBLK: the file's file system cannot back a mount (it has no read_folio:
        // tmpfs); a loop device can.
        if (mounted || mounted.error().err != ENOTBLK)
            return mounted;
    }
    auto loop = configure_loop(image.fd.get(), shown_image);
    if (!loop)
        return std::unexpected(loop.error());
    const std::string source = fd_source(loop->get());
    // "ro": the block device is opened read-only (the loop refuses writers). The loop's
    // fd is closed on return: from then on only the mount holds the device, and
    // autoclear releases it with the last mount (or now, if mounting failed).
    return mount_new(type, {{"source", source.c_str()}, {"ro", nullptr}}, image_attributes, target_fd, shown_target);
}

} // namespace chos::platform
