// chos-setup image build (see image_build.hpp).
//
// Reproducible: the tools get a clean environment (common/daemon_control.hpp) with
// SOURCE_DATE_EPOCH, the administrator's when set, else the newest modification time
// in the tree. Both tools then keep every file's own time (mksquashfs clamps only what
// is newer than SOURCE_DATE_EPOCH, mkfs.erofs the same with --preserve-mtime) and take
// it as the image's creation time, so nothing of the moment of the build enters the
// image; both sort directories themselves, and mkfs.erofs gets a UUID derived from the
// image's name instead of a random one. Owners, modes and extended attributes are the
// tree's (an environment needs its root:shadow /etc/shadow as much as its files).
#include "setup/image_build.hpp"

#include "common/daemon_control.hpp"
#include "common/fd.hpp"
#include "common/mountinfo.hpp"
#include "common/root_only.hpp"
#include "common/trusted_path.hpp"
#include "config/names.hpp"
#include "setup/support.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <ftw.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {
namespace {

namespace fs = std::filesystem;

struct Tool {
    const char* path;
    const char* package;
};
constexpr Tool mksquashfs{"/usr/bin/mksquashfs", "squashfs-tools"};
constexpr Tool mkfs_erofs{"/usr/bin/mkfs.erofs", "erofs-utils"};
constexpr Tool mmdebstrap{"/usr/bin/mmdebstrap", "mmdebstrap"};

std::string tool_name(const Tool& tool)
{
    return fs::path(tool.path).filename().string();
}

std::optional<std::string> missing(const Tool& tool)
{
    if (::access(tool.path, X_OK) == 0)
        return std::nullopt;
    return tool_name(tool) + " not found: install " + tool.package;
}

// The newest modification time in the tree (symbolic links not followed).
std::int64_t newest;
int note_mtime(const char*, const struct stat* st, int, struct FTW*)
{
    newest = std::max<std::int64_t>(newest, st->st_mtim.tv_sec);
    return 0;
}

Result<std::int64_t> newest_mtime(const std::string& tree)
{
    newest = 0;
    if (::nftw(tree.c_str(), note_mtime, 64, FTW_PHYS) != 0)
        return sys_error("cannot read the tree", tree);
    return newest;
}

// SOURCE_DATE_EPOCH as the administrator set it: decimal seconds, nothing else.
Result<std::optional<std::int64_t>> epoch_from_environment()
{
    const char* value = std::getenv("SOURCE_DATE_EPOCH");
    if (value == nullptr)
        return std::nullopt;
    const std::string_view text(value);
    std::int64_t seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || seconds < 0)
        return error("SOURCE_DATE_EPOCH", config::quote_for_message(text), "not a number of seconds");
    return seconds;
}

// A name-based UUID for mkfs.erofs (which otherwise makes a random one): two FNV-1a
// hashes of the name, with the version (8, "custom") and variant bits set.
std::string uuid_of(const std::string& name)
{
    std::uint8_t bytes[16];
    for (int half = 0; half < 2; ++half) {
        std::uint64_t h = 0xcbf29ce484222325ULL ^ static_cast<std::uint64_t>(half);
        for (const char c : "chos-image:" + name) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        for (int i = 0; i < 8; ++i)
            bytes[half * 8 + i] = static_cast<std::uint8_t>(h >> (8 * i));
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                  bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

Result<> run(const Tool& tool, const std::vector<std::string>& args, const std::vector<std::string>& env)
{
    const std::string name = tool_name(tool);
    auto pid = platform::spawn_program(tool.path, name, args, env);
    if (!pid)
        return std::unexpected(pid.error());
    auto status = platform::wait_program(*pid, name);
    if (!status)
        return std::unexpected(status.error());
    if (*status != 0)
        return error(name + " failed", std::string(), "exit status " + std::to_string(*status));
    return {};
}

// A mirror is one URL, never one of mmdebstrap's other MIRROR forms (a "deb ..." line,
// a sources file, "-" for stdin): an archive and nothing else.
bool is_mirror_url(std::string_view url)
{
    if (!url.starts_with("http://") && !url.starts_with("https://") && !url.starts_with("file:///"))
        return false;
    const auto rest = url.substr(url.find("://") + 3);
    return !rest.empty() && rest != "/" &&
           std::ranges::none_of(url, [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

// What one build made beside OUT, taken back unless it succeeded: the temporary image
// and (--suite) the temporary tree.
struct Scratch {
    int dir = -1;
    std::string image, tree_path;
    bool keep_image = false;
    ~Scratch()
    {
        if (!image.empty() && !keep_image)
            ::unlinkat(dir, image.c_str(), 0);
        if (!tree_path.empty()) {
            std::error_code ignored;
            fs::remove_all(tree_path, ignored);
        }
    }
};

} // namespace

Outcome image_build(const ImageRequest& request)
{
    Outcome out;
    const auto fail = [&out](const std::string& line) -> Outcome& { return out.fail("image build: " + line); };
    if (const auto problem = config::environment_name_problem(request.name))
        return fail("invalid name: '" + config::quote_for_message(request.name) + "' " + *problem);
    if (request.from.empty() == request.suite.empty())
        return fail("give the tree with either --from DIR or --suite SUITE");
    if (!request.include.empty() && request.suite.empty())
        return fail("--include goes with --suite");
    if (!request.mirror.empty() && request.suite.empty())
        return fail("--mirror goes with --suite");
    if (!request.mirror.empty() && !is_mirror_url(request.mirror))
        return fail("--mirror: '" + config::quote_for_message(request.mirror) +
                    "': not an http://, https:// or file:/// URL");
    if (request.out.empty())
        return fail("no output file given");
    if (::geteuid() != 0)
        return fail("must be run as root");
    const Tool& maker = request.format == ImageFormat::squashfs ? mksquashfs : mkfs_erofs;
    if (const auto m = missing(maker))
        return fail(*m);
    if (!request.suite.empty()) {
        if (const auto m = missing(mmdebstrap))
            return fail(*m);
        if (!config::is_valid_environment_name(request.suite))
            return fail("--suite: '" + config::quote_for_message(request.suite) + "': not a Debian suite name");
    }
    const auto epoch = epoch_from_environment();
    if (!epoch)
        return out.fail("image build: " + epoch.error().str());

    // OUT: its directory is the administrator's alone (nobody else can swap the
    // temporary file or the name), and OUT itself, when there, a regular file.
    const fs::path out_path = fs::absolute(request.out).lexically_normal();
    const std::string base = out_path.filename().string();
    const std::string dir = out_path.parent_path().string();
    if (base.empty() || base == "." || base == "..")
        return fail("'" + request.out + "': not a file name");
    if (const auto problem = platform::path_problem(dir))
        return fail("output directory: '" + dir + "': " + *problem);
    const Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirfd)
        return out.fail(Error{"image build: output directory", dir, errno, {}}.str());
    if (auto r = platform::check_root_only(dirfd.get(), platform::FileKind::directory, "image build: output directory", dir); !r)
        return out.fail(r.error());
    struct stat st{};
    if (::fstatat(dirfd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
        return fail("'" + out_path.string() + "': exists and is not a regular file");

    std::string tree = request.from;
    if (!request.from.empty()) {
        std::error_code ec;
        const fs::path canonical = fs::canonical(request.from, ec);
        if (ec || !fs::is_directory(canonical, ec))
            return fail("--from: '" + request.from + "': not a directory");
        tree = canonical.string();
        const std::string real_dir = fs::canonical(dir, ec).string();
        if (real_dir == tree || real_dir.starts_with(tree + "/"))
            return fail("'" + out_path.string() + "' is inside the tree '" + tree + "' (the image would hold itself)");
        // The image is the tree's own files: a mount inside it (a /proc or /home bound in
        // to chroot there) would be read into the image, /proc/kcore and all.
        auto mounts = platform::read_mountinfo();
        if (!mounts)
            return out.fail("image build: " + mounts.error().str());
        for (const auto& m : *mounts)
            if (m.mount_point.starts_with(tree + "/"))
                return fail("'" + m.mount_point + "' is a mount point inside the tree: unmount it first (the image would hold what is mounted there)");
    }

    // Signals wait until the scratch files are gone (a tool killed by the same ^C
    // ends the build; what it left is removed below).
    BlockedSignals hold;
    Scratch scratch;
    scratch.dir = dirfd.get();
    if (!request.suite.empty()) {
        // mmdebstrap mounts /proc, /sys and /dev in the tree while it works: in a mount
        // namespace of this command's own, so nothing stays mounted if it is killed.
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return out.fail(Error{"image build: cannot make a private mount namespace", {}, errno, {}}.str());
        const std::string tree_name = "." + base + ".tree-" + std::to_string(::getpid());
        if (::mkdirat(dirfd.get(), tree_name.c_str(), 0755) != 0)
            return out.fail(Error{"image build: cannot make the tree", dir + "/" + tree_name, errno, {}}.str());
        scratch.tree_path = dir + "/" + tree_name;
        std::vector<std::string> args{"--variant=minbase", "--mode=root", "--quiet"};
        if (!request.include.empty())
            args.push_back("--include=" + request.include);
        args.insert(args.end(), {"--", request.suite, scratch.tree_path});
        if (!request.mirror.empty())
            args.push_back(request.mirror);
        std::vector<std::string> env;
        if (*epoch)
            env.push_back("SOURCE_DATE_EPOCH=" + std::to_string(**epoch));
        if (auto r = run(mmdebstrap, args, env); !r)
            return out.fail("image build: " + r.error().str());
        tree = scratch.tree_path;
    }

    std::int64_t seconds = 0;
    if (*epoch) {
        seconds = **epoch;
    } else {
        auto n = newest_mtime(tree);
        if (!n)
            return out.fail("image build: " + n.error().str());
        seconds = *n;
    }

    const std::string tmp_name = "." + base + ".build-" + std::to_string(::getpid());
    ::unlinkat(dirfd.get(), tmp_name.c_str(), 0); // one a killed build of this pid left
    const Fd tmp(::openat(dirfd.get(), tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!tmp)
        return out.fail(Error{"image build: cannot create", dir + "/" + tmp_name, errno, {}}.str());
    scratch.image = tmp_name;
    const std::string tmp_path = dir + "/" + tmp_name;
    const std::vector<std::string> env{"SOURCE_DATE_EPOCH=" + std::to_string(seconds)};
    std::vector<std::string> args;
    if (request.format == ImageFormat::squashfs)
        // lz4: the quickest to build and to read (docs/benchmarks.md "Images")
        args = {tree, tmp_path, "-noappend", "-reproducible", "-comp", "lz4", "-quiet", "-no-progress"};
    else
        args = {"--quiet", "--preserve-mtime", "-U" + uuid_of(request.name), tmp_path, tree};
    if (auto r = run(maker, args, env); !r)
        return out.fail("image build: " + r.error().str());

    // The image as the tool left it: root's, 0644, on disk, then renamed over OUT.
    const Fd made(::openat(dirfd.get(), tmp_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!made || ::fstat(made.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        return fail("'" + tmp_path + "': the tool left no image");
    if (::fchown(made.get(), 0, 0) != 0 || ::fchmod(made.get(), 0644) != 0 || ::fsync(made.get()) != 0)
        return out.fail(Error{"image build: cannot finish", tmp_path, errno, {}}.str());
    if (::renameat(dirfd.get(), tmp_name.c_str(), dirfd.get(), base.c_str()) != 0)
        return out.fail(Error{"image build: cannot rename into place", out_path.string(), errno, {}}.str());
    scratch.keep_image = true;
    (void)::fsync(dirfd.get());
    const char* format = request.format == ImageFormat::squashfs ? "squashfs" : "erofs";
    out.say("image " + request.name + ": " + out_path.string() + " (" + format + ", " +
            std::to_string(st.st_size) + " bytes, from " + (request.suite.empty() ? tree : "suite " + request.suite) +
            ")");
    return out;
}

} // namespace chos::setup
