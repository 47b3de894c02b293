// Step 4's ~/.chos, read with the user's rights only (docs/threat-model.md, class I,
// CVE-2010-3435): a child drops to the user before it opens anything, refuses
// symlinks, FIFOs and directories, reads at most 4 KiB and is killed after 2 s.
#include "enter/steps.hpp"

#include "enter/as_user.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::enter {

namespace {

// First byte of the child's answer.
enum Status : unsigned char { ok = 0, missing, not_regular, cannot_open, cannot_read };

constexpr int timeout_ms = 2000;

// In the child, as the user: open without following a symlink, regular files only.
void read_as_user(int out, const void* arg) noexcept
{
    const char* path = static_cast<const char*>(arg);
    unsigned char status = ok;
    char buf[max_user_file_size];
    std::size_t len = 0;
    const int fd = ::open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0) {
        status = (errno == ENOENT || errno == ENOTDIR) ? missing : cannot_open;
    } else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        status = not_regular;
    } else {
        while (len < sizeof buf) {
            const ssize_t r = ::read(fd, buf + len, sizeof buf - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                status = cannot_read;
                break;
            }
            if (r == 0)
                break;
            len += static_cast<std::size_t>(r);
        }
    }
    if (::write(out, &status, 1) != 1 || status != ok)
        return;
    std::size_t done = 0;
    while (done < len) {
        const ssize_t w = ::write(out, buf + done, len - done);
        if (w <= 0)
            return;
        done += static_cast<std::size_t>(w);
    }
}

} // namespace

UserFile read_user_file(const Identity& who, const std::string& name)
{
    UserFile result;
    if (who.home.empty() || who.home[0] != '/') {
        result.absent_reason = "no home directory";
        return result;
    }
    const std::string path = who.home + "/" + name;
    const ChildOutput child = run_as_user(who.user, read_as_user, path.c_str(), max_user_file_size + 1, timeout_ms);
    if (!child.started) {
        result.absent_reason = "cannot start the reader";
        return result;
    }
    if (child.timed_out) {
        result.absent_reason = "reading it took more than 2 s";
        return result;
    }
    if (!child.dropped) {
        result.absent_reason = "could not drop privileges to read it";
        return result;
    }
    if (child.data.empty()) {
        result.absent_reason = "could not be read";
        return result;
    }
    switch (static_cast<unsigned char>(child.data[0])) {
    case ok:
        result.text = child.data.substr(1, max_user_file_size);
        break;
    case missing: result.absent_reason = "does not exist"; break;
    case not_regular: result.absent_reason = "is not a regular file"; break;
    case cannot_open: result.absent_reason = "cannot be opened by the user (or is a symlink)"; break;
    default: result.absent_reason = "cannot be read"; break;
    }
    return result;
}

} // namespace chos::enter
