// /proc/self/mountinfo (see mountinfo.hpp).
#include "common/mountinfo.hpp"

#include "common/fd.hpp"
#include "common/file_io.hpp"

#include <algorithm>
#include <charconv>
#include <fcntl.h>

namespace chos::platform {

namespace {

// Far above any real table, small enough that a broken one cannot exhaust memory.
constexpr std::size_t max_mountinfo = 64 * 1024 * 1024;

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo (proc(5)).
std::string unescape(std::string_view s)
{
    const auto octal = [&](std::size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '7'; };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::uint64_t to_number(std::string_view s)
{
    std::uint64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

} // namespace

bool has_option(std::string_view options, std::string_view option)
{
    std::size_t pos = 0;
    while (pos <= options.size()) {
        auto comma = options.find(',', pos);
        if (comma == std::string_view::npos)
            comma = options.size();
        if (options.substr(pos, comma - pos) == option)
            return true;
        pos = comma + 1;
    }
    return false;
}

bool MountEntry::has_mount_option(std::string_view option) const
{
    return has_option(mount_options, option);
}

bool MountEntry::has_super_option(std::string_view option) const
{
    return has_option(super_options, option);
}

std::vector<MountEntry> parse_mountinfo(std::string_view text)
{
    std::vector<MountEntry> out;
    std::vector<std::string_view> f;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            break; // unterminated tail: not a complete entry
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        // "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER_OPTIONS"
        f.clear();
        std::size_t p = 0;
        while (p <= line.size()) {
            auto sp = line.find(' ', p);
            if (sp == std::string_view::npos)
                sp = line.size();
            f.push_back(line.substr(p, sp - p));
            p = sp + 1;
        }
        const auto sep = std::find(f.begin() + std::min<std::ptrdiff_t>(6, static_cast<std::ptrdiff_t>(f.size())),
                                   f.end(), std::string_view("-"));
        if (f.size() < 10 || sep == f.end() || f.end() - sep < 4)
            continue;
        MountEntry e;
        e.id = to_number(f[0]);
        e.parent = to_number(f[1]);
        e.root = unescape(f[3]);
        e.mount_point = unescape(f[4]);
        e.mount_options = std::string(f[5]);
        e.fstype = unescape(*(sep + 1));
        e.source = unescape(*(sep + 2));
        e.super_options = unescape(*(sep + 3));
        out.push_back(std::move(e));
    }
    return out;
}

Result<std::vector<MountEntry>> read_mountinfo()
{
    Fd fd(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (!fd)
        return sys_error("cannot open", "/proc/self/mountinfo");
    auto text = read_all(fd.get(), max_mountinfo, "/proc/self/mountinfo");
    if (!text)
        return std::unexpected(text.error());
    return parse_mountinfo(*text);
}

const MountEntry* top_mount_at(const std::vector<MountEntry>& mounts, std::string_view path)
{
    const MountEntry* top = nullptr;
    for (const auto& m : mounts) {
        if (m.mount_point != path)
            continue;
        const bool covered = std::any_of(mounts.begin(), mounts.end(), [&](const MountEntry& o) {
            return &o != &m && o.parent == m.id && o.mount_point == path;
        });
        if (!covered)
            top = &m;
    }
    return top;
}

const MountEntry* mount_by_id(const std::vector<MountEntry>& mounts, std::uint64_t id)
{
    for (const auto& m : mounts)
        if (m.id == id)
            return &m;
    return nullptr;
}

} // namespace chos::platform
