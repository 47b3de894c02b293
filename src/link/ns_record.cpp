// The namespace backend's record (see ns_record.hpp).
#include "link/ns_record.hpp"

#include "common/file_io.hpp"
#include "common/pid_file.hpp"
#include "common/pidfd.hpp"
#include "common/root_only.hpp"

#include <charconv>
#include <fcntl.h>
#include <linux/magic.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <vector>

namespace chos::link {

namespace {

constexpr const char* not_running = "chos-nsd is not running (see 'chos-setup status')";
constexpr std::size_t max_record = 1 << 20;

template <typename T>
bool number(std::string_view text, T& out)
{
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

std::string encode(const NsRecord& record)
{
    std::string text = "holder " + std::to_string(record.pid) + " " + std::to_string(record.start_time) + "\n";
    text += "host " + std::to_string(record.host.fd) + " " + std::to_string(record.host.inode) + "\n";
    for (const auto& [name, held] : record.environments)
        text += "env " + name + " " + std::to_string(held.fd) + " " + std::to_string(held.inode) + "\n";
    return text;
}

Result<NsRecord> decode_ns_record(std::string_view text)
{
    NsRecord record;
    bool holder = false, host = false;
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        std::vector<std::string_view> words;
        for (std::size_t pos = 0; pos < line.size();) {
            const auto space = line.find(' ', pos);
            const auto end = space == std::string_view::npos ? line.size() : space;
            words.push_back(line.substr(pos, end - pos));
            pos = end + 1;
        }
        HeldNamespace held;
        bool ok = false;
        if (words.size() == 3 && words[0] == "holder") {
            ok = number(words[1], record.pid) && number(words[2], record.start_time) && record.pid > 1;
            holder = ok;
        } else if (words.size() == 3 && words[0] == "host") {
            ok = number(words[1], held.fd) && number(words[2], held.inode) && held.fd >= 0;
            record.host = held;
            host = ok;
        } else if (words.size() == 4 && words[0] == "env" && !words[1].empty()) {
            ok = number(words[2], held.fd) && number(words[3], held.inode) && held.fd >= 0;
            record.environments[std::string(words[1])] = held;
        }
        if (!ok)
            return error("malformed namespace record", "line " + std::to_string(line_no), std::string(line));
    }
    if (!holder || !host)
        return error("malformed namespace record", "", "no holder or host line");
    return record;
}

Result<NsRecord> read_ns_record(const std::string& run_dir)
{
    const std::string path = run_dir + "/" + ns_record_name;
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT)
            return error(not_running, "", "");
        return sys_error("cannot open", path);
    }
    if (auto ok = platform::check_root_only(fd.get(), platform::FileKind::regular, "refusing namespace record", path);
        !ok)
        return std::unexpected(ok.error());
    auto text = platform::read_all(fd.get(), max_record, path);
    if (!text)
        return std::unexpected(text.error());
    return decode_ns_record(*text);
}

Result<Fd> open_held(const NsRecord& record, const HeldNamespace& held, const std::string& shown)
{
    // The pidfd first: from here on the holder's number cannot name another process
    // without the pidfd seeing the holder exit.
    Fd pidfd = platform::pidfd_open(record.pid);
    if (!pidfd)
        return error(not_running, "", "");
    if (platform::process_start_time(record.pid) != record.start_time)
        return error(not_running, "", "");
    const std::string proc = "/proc/" + std::to_string(record.pid);
    struct stat st {};
    if (::stat(proc.c_str(), &st) != 0 || st.st_uid != 0)
        return error(not_running, "", "");
    const std::string path = proc + "/fd/" + std::to_string(held.fd);
    Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) {
        if (platform::pidfd_poll(pidfd.get(), 0) != 0)
            return error(not_running, "", ""); // exited meanwhile (or a zombie)
        return sys_error("cannot open the mount namespace of", shown);
    }
    struct statfs sfs {};
    if (::fstatfs(ns.get(), &sfs) != 0 || sfs.f_type != NSFS_MAGIC || ::fstat(ns.get(), &st) != 0 ||
        st.st_ino != held.inode)
        return error("refusing the mount namespace of", shown, "not the namespace chos-setup recorded");
    // Still the same holder after the open: the fd we opened was its.
    if (platform::pidfd_poll(pidfd.get(), 0) != 0)
        return error(not_running, "", "");
    return ns;
}

unsigned long long own_mount_namespace()
{
    struct stat st {};
    if (::stat("/proc/self/ns/mnt", &st) != 0)
        return 0;
    return st.st_ino;
}

} // namespace chos::link
