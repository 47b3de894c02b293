// Persisted setup state (see state.hpp).
#include "setup/state.hpp"

#include "common/fd.hpp"
#include "common/file_io.hpp"
#include "common/layout.hpp"
#include "common/root_only.hpp"
#include "setup/mounts.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace chos::setup {

namespace {

constexpr std::string_view header = "chos-setup-state 1\n";
constexpr std::string_view bind_prefix = "bind ";
constexpr std::string_view shared_prefix = "shared ";
constexpr std::size_t max_state_size = 1024 * 1024;
const std::string state_file(layout::setup_state);

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
    if (auto ok = platform::check_root_only(fd->get(), platform::FileKind::regular, "refusing state file", shown);
        !ok)
        return std::unexpected(ok.error());
    auto read = platform::read_all(fd->get(), max_state_size, shown);
    if (!read)
        return std::unexpected(read.error());
    const std::string& text = *read;
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
        else if (line.starts_with(shared_prefix))
            state.shared_files.push_back(unescape(line.substr(shared_prefix.size())));
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
    for (const auto& file : state.shared_files)
        text += std::string(shared_prefix) + escape(file) + "\n";

    const auto slash = state_file.rfind('/');
    const std::string dir_name = state_file.substr(0, slash);
    auto dir = open_beneath(tree_root, dir_name, O_PATH | O_DIRECTORY, shown_tree + "/" + dir_name);
    if (!dir)
        return std::unexpected(dir.error());
    // Root's alone (0600): it names what chos-setup mounted.
    return platform::replace_file(dir->get(), state_file.substr(slash + 1), text, 0600, shown_tree + "/" + dir_name);
}

} // namespace chos::setup
