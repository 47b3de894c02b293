// Reading a file that decides privileged behaviour (/etc/chos.yaml, the legacy
// /etc/chos): only when nobody but its trusted owner could have written it. Every
// component is opened relative to its parent with O_NOFOLLOW, so the checks and the
// read concern the same objects (no check-then-use race through a symlink swapped in
// between: docs/threat-model.md, class J: config tampering and pre-created state;
// CVE-2019-11328). Who may own what is the platform's one rule (common/root_only.hpp).
#include "config/yaml_config.hpp"

#include "common/fd.hpp"
#include "common/root_only.hpp"
#include "config/names.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::config {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& message)
{
    throw ConfigError({{path, 0, 0, message}});
}

// A directory on the way to the file: owned by root or the trusted owner, and not
// writable by group or others -- unless it is sticky (like /tmp), where others
// cannot rename or remove what they do not own.
void check_directory(const std::string& path, const std::string& shown, const struct stat& st, FileTrust trust)
{
    if (!S_ISDIR(st.st_mode))
        refuse(path, "'" + shown + "' is not a directory");
    if (auto problem = platform::ownership_problem(st, platform::FileKind::directory,
                                                   {.owner = trust.owner, .or_root = true, .sticky_ok = true}))
        refuse(path, "directory '" + shown + "' " + *problem);
}

} // namespace

CheckedDirectory CheckedDirectory::of(const std::string& path, FileTrust trust)
{
    if (auto problem = absolute_path_problem(path); problem || path == "/")
        refuse(path, "the configuration path must be an absolute normalized file path");

    Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        refuse(path, std::string("cannot open '/': ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0)
        refuse(path, std::string("cannot stat '/': ") + std::strerror(errno));
    check_directory(path, "/", st, trust);

    std::size_t pos = 1;
    std::string shown;
    for (;;) {
        std::size_t slash = path.find('/', pos);
        const std::string name = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        shown = path.substr(0, slash);
        if (slash == std::string::npos)
            break;
        Fd next(::openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!next)
            refuse(path, "cannot open directory '" + shown + "': " + std::strerror(errno));
        if (::fstat(next.get(), &st) != 0)
            refuse(path, "cannot stat '" + shown + "': " + std::strerror(errno));
        if (S_ISLNK(st.st_mode))
            refuse(path, "'" + shown + "' is a symbolic link (refused: the path must not pass through links)");
        check_directory(path, shown, st, trust);
        dir = std::move(next);
        pos = slash + 1;
    }

    CheckedDirectory d;
    d.fd_ = std::move(dir);
    d.dir_ = path.substr(0, pos);
    d.trust_ = trust;
    return d;
}

std::string CheckedDirectory::read(const std::string& name, std::size_t max_size) const
{
    const std::string path = dir_ + name;
    const FileTrust trust = trust_;
    struct stat st {};
    // O_NONBLOCK: a FIFO planted here must not hang the reader; the type check follows.
    Fd file(::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!file) {
        if (errno == ELOOP)
            refuse(path, "is a symbolic link (refused: it must be a regular file)");
        refuse(path, std::string("cannot open: ") + std::strerror(errno));
    }
    if (::fstat(file.get(), &st) != 0)
        refuse(path, std::string("cannot stat: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode))
        refuse(path, "is a directory, not a regular file");
    if (S_ISFIFO(st.st_mode))
        refuse(path, "is a FIFO, not a regular file");
    if (!S_ISREG(st.st_mode))
        refuse(path, "is not a regular file");
    if (auto problem = platform::ownership_problem(st, platform::FileKind::regular, {.owner = trust.owner}))
        refuse(path, *problem);
    if (static_cast<std::size_t>(st.st_size) > max_size)
        refuse(path, "is larger than " + std::to_string(max_size) + " bytes");

    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(file.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            refuse(path, std::string("cannot read: ") + std::strerror(errno));
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
        if (got > max_size)
            refuse(path, "is larger than " + std::to_string(max_size) + " bytes");
    }
    text.resize(got);
    return text;
}

std::string read_trusted_file(const std::string& path, FileTrust trust, std::size_t max_size)
{
    CheckedDirectory dir = CheckedDirectory::of(path, trust);
    return dir.read(path.substr(dir.directory().size()), max_size);
}

} // namespace chos::config
