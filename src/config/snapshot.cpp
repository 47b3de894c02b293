// Encoding: a magic line, the format version, the configuration text, then the Config
// field by field. Integers are 32-bit little-endian, strings and lists are length-
// prefixed; decoding checks every length against what is left and every enum against
// its range, and must end exactly at the end of the data.
#include "config/snapshot.hpp"

#include <cstdint>
#include <cstring>

namespace chos::config {

namespace {

constexpr std::string_view magic = "CHOS config snapshot\n";
// Bump with any change to Config or to this encoding.
constexpr std::uint32_t format_version = 1;
// The text plus the model of it.
constexpr std::size_t max_snapshot_size = 4 * max_config_size;

class Writer {
public:
    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void flag(bool v) { u32(v ? 1 : 0); }
    void str(std::string_view s)
    {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    void strs(const std::vector<std::string>& list)
    {
        u32(static_cast<std::uint32_t>(list.size()));
        for (const auto& s : list)
            str(s);
    }
    void rules(const EnvironmentRules& r)
    {
        flag(r.keep.has_value());
        if (r.keep)
            strs(*r.keep);
        strs(r.unset);
        u32(static_cast<std::uint32_t>(r.set.size()));
        for (const auto& [name, value] : r.set) {
            str(name);
            str(value);
        }
    }
    std::string take() { return std::move(out_); }
    void raw(std::string_view s) { out_.append(s); }

private:
    std::string out_;
};

// Every getter returns false once the data ran out or held something impossible;
// the reader then stays failed.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool u32(std::uint32_t& v)
    {
        if (!ok_ || in_.size() < 4)
            return ok_ = false;
        v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in_[static_cast<std::size_t>(i)])) << (8 * i);
        in_.remove_prefix(4);
        return true;
    }
    bool flag(bool& v)
    {
        std::uint32_t n = 0;
        if (!u32(n) || n > 1)
            return ok_ = false;
        v = n == 1;
        return true;
    }
    bool number(int& v)
    {
        std::uint32_t n = 0;
        if (!u32(n) || n > 0x7fffffff)
            return ok_ = false;
        v = static_cast<int>(n);
        return true;
    }
    template <typename Enum>
    bool choice(Enum& v, Enum last)
    {
        std::uint32_t n = 0;
        if (!u32(n) || n > static_cast<std::uint32_t>(last))
            return ok_ = false;
        v = static_cast<Enum>(n);
        return true;
    }
    bool view(std::string_view& s)
    {
        std::uint32_t n = 0;
        if (!u32(n) || in_.size() < n)
            return ok_ = false;
        s = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }
    bool str(std::string& s)
    {
        std::string_view v;
        if (!view(v))
            return false;
        s.assign(v);
        return true;
    }
    // A count of items that each take at least 4 bytes: never more than what is left.
    bool count(std::uint32_t& n)
    {
        if (!u32(n) || n > in_.size() / 4)
            return ok_ = false;
        return true;
    }
    bool strs(std::vector<std::string>& list)
    {
        std::uint32_t n = 0;
        if (!count(n))
            return false;
        list.resize(n);
        for (auto& s : list)
            if (!str(s))
                return false;
        return true;
    }
    bool rules(EnvironmentRules& r)
    {
        bool has_keep = false;
        if (!flag(has_keep))
            return false;
        if (has_keep && !strs(r.keep.emplace()))
            return false;
        std::uint32_t n = 0;
        if (!strs(r.unset) || !count(n))
            return false;
        for (std::uint32_t i = 0; i < n; ++i) {
            std::string name, value;
            if (!str(name) || !str(value))
                return false;
            r.set.emplace(std::move(name), std::move(value));
        }
        return true;
    }
    bool prefix(std::string_view expected)
    {
        if (!ok_ || in_.substr(0, expected.size()) != expected)
            return ok_ = false;
        in_.remove_prefix(expected.size());
        return true;
    }
    [[nodiscard]] bool done() const { return ok_ && in_.empty(); }

private:
    std::string_view in_;
    bool ok_ = true;
};

} // namespace

std::string encode_snapshot(const Config& c, std::string_view text)
{
    Writer w;
    w.raw(magic);
    w.u32(format_version);
    w.str(text);
    w.str(c.default_environment);
    w.str(c.user_file);
    w.flag(c.fail_to_default);
    w.u32(static_cast<std::uint32_t>(c.backend));
    w.str(c.tree);
    w.str(c.run_dir);
    w.flag(c.local);
    w.flag(c.local_suid);
    w.u32(static_cast<std::uint32_t>(c.registry.type));
    w.str(c.registry.name);
    w.str(c.registry.mount);
    w.u32(static_cast<std::uint32_t>(c.environments.size()));
    for (const auto& e : c.environments) {
        w.str(e.name);
        w.str(e.path);
        w.str(e.description);
        w.strs(e.users);
        w.strs(e.groups);
        w.u32(static_cast<std::uint32_t>(e.personality));
        w.rules(e.rules);
        w.u32(static_cast<std::uint32_t>(e.line));
    }
    w.strs(c.os_dirs);
    w.u32(static_cast<std::uint32_t>(c.binds.size()));
    for (const auto& b : c.binds) {
        w.str(b.source);
        w.str(b.target);
        w.flag(b.dev);
        w.flag(b.optional);
        w.flag(b.recursive);
    }
    w.strs(c.shared_files);
    w.rules(c.rules);
    return w.take();
}

std::optional<Config> decode_snapshot(std::string_view snapshot, std::string_view text, const std::string& file)
{
    Reader r(snapshot);
    std::uint32_t version = 0;
    std::string_view made_from;
    if (!r.prefix(magic) || !r.u32(version) || version != format_version || !r.view(made_from) ||
        made_from != text)
        return std::nullopt;
    Config c;
    c.source = file;
    std::uint32_t n = 0;
    bool ok = r.str(c.default_environment) && r.str(c.user_file) && r.flag(c.fail_to_default) &&
              r.choice(c.backend, Backend::kmod) && r.str(c.tree) && r.str(c.run_dir) && r.flag(c.local) &&
              r.flag(c.local_suid) && r.choice(c.registry.type, RegistryType::cgroup2) && r.str(c.registry.name) &&
              r.str(c.registry.mount) && r.count(n);
    if (!ok)
        return std::nullopt;
    c.environments.resize(n);
    for (auto& e : c.environments) {
        if (!(r.str(e.name) && r.str(e.path) && r.str(e.description) && r.strs(e.users) && r.strs(e.groups) &&
              r.choice(e.personality, Personality::linux32) && r.rules(e.rules) && r.number(e.line)))
            return std::nullopt;
    }
    if (!r.strs(c.os_dirs) || !r.count(n))
        return std::nullopt;
    c.binds.resize(n);
    for (auto& b : c.binds) {
        if (!(r.str(b.source) && r.str(b.target) && r.flag(b.dev) && r.flag(b.optional) && r.flag(b.recursive)))
            return std::nullopt;
    }
    if (!r.strs(c.shared_files) || !r.rules(c.rules) || !r.done())
        return std::nullopt;
    return c;
}

std::string snapshot_path_for(const std::string& config_path)
{
    return config_path + ".snapshot";
}

Config load_config_via_snapshot(const std::string& path, FileTrust trust, bool* from_snapshot)
{
    const CheckedDirectory dir = CheckedDirectory::of(path, trust);
    const std::string name = path.substr(dir.directory().size());
    const std::string text = dir.read(name);
    try {
        // Beside the configuration (snapshot_path_for()): the same directory.
        const std::string snapshot = dir.read(name + ".snapshot", max_snapshot_size);
        if (auto config = decode_snapshot(snapshot, text, path)) {
            if (from_snapshot)
                *from_snapshot = true;
            return std::move(*config);
        }
    } catch (const ConfigError&) {
        // No usable snapshot (absent, not trusted, too large): parse, below.
    }
    if (from_snapshot)
        *from_snapshot = false;
    return parse_config(text, path);
}

} // namespace chos::config
