// Persisted setup state (see state.hpp).
#include "setup/state.hpp"

#include "common/fd.hpp"
#include "setup/mounts.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr std::string_view header = "chos-setup-state 1\n";
constexpr std::string_view bind_prefix = "bind ";
constexpr std::size_t max_state_size = 1024 * 1024;

// Paths may hold any byte but NUL; escape the ones the line format uses.
std::string escape(const std::string& text)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        if (c <= 0x20 || c == '%' || c == 0x7f) {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string unescape(std::string_view text)
{
    const auto value = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && value(text[i + 1]) >= 0 && value(text[i + 2]) >= 0) {
            out += static_cast<char>(value(text[i + 1]) * 16 + value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace

Result<SetupState> load_state(int tree_root, const std::string& shown_tree)
{
    const std::string shown = shown_tree + "/" + state_file;
    SetupState state;
    auto fd = open_beneath(tree_root, state_file, O_RDONLY | O_NONBLOCK | O_NOCTTY, shown);
    if (!fd) {
        if (fd.error().err == ENOENT)
            return state;
        return std::unexpected(fd.error());
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return sys_error("cannot stat", shown);
    if (!S_ISREG(st.st_mode) || st.st_uid != 0)
        return error("refusing state file", shown, "is not a root-owned regular file");
    std::string text;
    std::array<char, 4096> chunk{};
    for (;;) {
        const ssize_t n = ::read(fd->get(), chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sys_error("cannot read", shown);
        if (n == 0)
            break;
        text.append(chunk.data(), static_cast<std::size_t>(n));
        if (text.size() > max_state_size)
            return error("refusing state file", shown, "too large");
    }
    if (!text.starts_with(header))
        return error("refusing state file", shown, "unknown format");
    std::string_view rest(text);
    rest.remove_prefix(header.size());
    while (!rest.empty()) {
        const auto newline = rest.find('\n');
        if (newline == std::string_view::npos)
            return error("refusing state file", shown, "truncated");
        const std::string_view line = rest.substr(0, newline);
        rest.remove_prefix(newline + 1);
        if (line.starts_with(bind_prefix))
            state.bind_targets.push_back(unescape(line.substr(bind_prefix.size())));
        // Unknown lines come from a newer chos-setup: ignored, not fatal.
    }
    return state;
}

Result<> save_state(int tree_root, const std::string& shown_tree, const SetupState& state)
{
    const std::string shown = shown_tree + "/" + state_file;
    std::string text(header);
    for (const auto& target : state.bind_targets)
        text += std::string(bind_prefix) + escape(target) + "\n";

    auto dir = open_beneath(tree_root, ".chos", O_PATH | O_DIRECTORY, shown_tree + "/.chos");
    if (!dir)
        return std::unexpected(dir.error());
    const char* temporary = "setup-state.new";
    (void)::unlinkat(dir->get(), temporary, 0);
    Fd fd(::openat(dir->get(), temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        return sys_error("cannot write", shown);
    std::string_view left(text);
    while (!left.empty()) {
        const ssize_t n = ::write(fd.get(), left.data(), left.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return sys_error("cannot write", shown);
        left.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::renameat(dir->get(), temporary, dir->get(), "setup-state") != 0)
        return sys_error("cannot replace", shown);
    return {};
}

} // namespace chos::setup
