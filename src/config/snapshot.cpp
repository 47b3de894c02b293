// Encoding: a magic line, the schema's fingerprint, the configuration text, then the
// Config.
//
// Nothing here names a field of Config: the encoder, the decoder and the schema walk
// the fields() lists of config.hpp. The schema spells every field's name and type in
// order ("tree:s;environments:[{name:s;...}];..."); the compiler reduces it to a 64-bit
// fingerprint, and a snapshot is only decoded when its fingerprint is the running
// program's. So a snapshot written before a change of the model is never misread -- it
// is ignored and the YAML parsed -- and no version number has to be bumped by hand.
//
// Integers are 32-bit little-endian, strings and lists are length-prefixed; decoding
// checks every length against what is left and every enum against its range, and must
// end exactly at the end of the data. (A change of these primitives changes the magic.)
#include "config/snapshot.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <type_traits>
#include <vector>

namespace chos::config {

namespace {

constexpr std::string_view magic = "CHOS config snapshot 2\n";
// The text plus the model of it.
constexpr std::size_t max_snapshot_size = 4 * max_config_size;

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
using StringMap = std::map<std::string, std::string>;

// ---- schema ---------------------------------------------------------------------------

// The shape of a type, as a stream of tokens: "name:" and a type code per field
// ("s" string, "b" bool, "i" int, "e<last>" enum, "<s,s>" map, "?T" optional, "[T]"
// list, "{...}" struct). Walked once into a fingerprint at compile time (what the
// snapshot records) and, for tests and diagnostics, into text.
template <typename Sink>
class Shape {
public:
    constexpr explicit Shape(Sink& sink) : sink_(sink) {}

    template <typename Owner, typename M>
    constexpr void operator()(const char* name, M Owner::*)
    {
        sink_.add(name);
        sink_.add(":");
        type<M>();
        sink_.add(";");
    }
    template <typename Owner, typename M>
    constexpr void skip(const char*, M Owner::*)
    {
    }
    template <typename T>
    constexpr void type()
    {
        if constexpr (std::is_same_v<T, std::string>)
            sink_.add("s");
        else if constexpr (std::is_same_v<T, bool>)
            sink_.add("b");
        else if constexpr (std::is_same_v<T, int>)
            sink_.add("i");
        else if constexpr (std::is_enum_v<T>) {
            sink_.add("e");
            number(static_cast<std::uint32_t>(last_value(T{})));
        } else if constexpr (std::is_same_v<T, StringMap>)
            sink_.add("<s,s>");
        else if constexpr (is_optional<T>::value) {
            sink_.add("?");
            type<typename T::value_type>();
        } else if constexpr (is_vector<T>::value) {
            sink_.add("[");
            type<typename T::value_type>();
            sink_.add("]");
        } else {
            sink_.add("{");
            T::fields(*this);
            sink_.add("}");
        }
    }

private:
    constexpr void number(std::uint32_t n)
    {
        char digits[11] = {};
        int i = 10;
        do
            digits[--i] = static_cast<char>('0' + n % 10);
        while ((n /= 10) != 0);
        sink_.add(digits + i);
    }

    Sink& sink_;
};

// FNV-1a over the shape's tokens.
struct Fingerprint {
    std::uint64_t value = 0xcbf29ce484222325ULL;
    constexpr void add(const char* token)
    {
        for (; *token; ++token)
            value = (value ^ static_cast<unsigned char>(*token)) * 0x100000001b3ULL;
    }
};

struct Text {
    std::string value;
    void add(const char* token) { value += token; }
};

constexpr std::uint64_t fingerprint_of_config()
{
    Fingerprint f;
    Shape<Fingerprint>(f).type<Config>();
    return f.value;
}

// Computed by the compiler: a launch pays nothing for it.
constexpr std::uint64_t schema_fingerprint = fingerprint_of_config();

// ---- writing --------------------------------------------------------------------------

class Writer {
public:
    // Puts each listed field of `object`.
    template <typename T>
    struct Fields {
        Writer& w;
        const T& object;
        template <typename M>
        void operator()(const char*, M T::*member)
        {
            w.put(object.*member);
        }
        template <typename M>
        void skip(const char*, M T::*)
        {
        }
    };

    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void raw(std::string_view s) { out_.append(s); }
    void str(std::string_view s)
    {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    template <typename T>
    void put(const T& v)
    {
        if constexpr (std::is_same_v<T, std::string>)
            str(v);
        else if constexpr (std::is_same_v<T, bool>)
            u32(v ? 1 : 0);
        else if constexpr (std::is_same_v<T, int> || std::is_enum_v<T>)
            u32(static_cast<std::uint32_t>(v));
        else if constexpr (std::is_same_v<T, StringMap>) {
            u32(static_cast<std::uint32_t>(v.size()));
            for (const auto& [name, value] : v) {
                str(name);
                str(value);
            }
        } else if constexpr (is_optional<T>::value) {
            u32(v ? 1 : 0);
            if (v)
                put(*v);
        } else if constexpr (is_vector<T>::value) {
            u32(static_cast<std::uint32_t>(v.size()));
            for (const auto& item : v)
                put(item);
        } else {
            T::fields(Fields<T>{*this, v});
        }
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// ---- reading ----------------------------------------------------------------------------

// Every read returns false once the data ran out or held something impossible; the
// reader then stays failed.
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
    bool view(std::string_view& s)
    {
        std::uint32_t n = 0;
        if (!u32(n) || in_.size() < n)
            return ok_ = false;
        s = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }
    bool prefix(std::string_view expected)
    {
        if (!ok_ || in_.substr(0, expected.size()) != expected)
            return ok_ = false;
        in_.remove_prefix(expected.size());
        return true;
    }
    // Gets each listed field of `object`.
    template <typename T>
    struct Fields {
        Reader& r;
        T& object;
        template <typename M>
        void operator()(const char*, M T::*member)
        {
            (void)r.get(object.*member);
        }
        template <typename M>
        void skip(const char*, M T::*)
        {
        }
    };

    template <typename T>
    bool get(T& v)
    {
        if (!ok_)
            return false;
        if constexpr (std::is_same_v<T, std::string>) {
            std::string_view s;
            if (view(s))
                v.assign(s);
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int> || std::is_enum_v<T>) {
            std::uint32_t n = 0;
            if (u32(n) && n > limit<T>())
                ok_ = false;
            else
                v = static_cast<T>(n);
        } else if constexpr (std::is_same_v<T, StringMap>) {
            std::uint32_t n = 0;
            for (count(n); ok_ && n > 0; --n) {
                std::string name, value;
                if (get(name) && get(value))
                    v.emplace(std::move(name), std::move(value));
            }
        } else if constexpr (is_optional<T>::value) {
            bool present = false;
            if (get(present) && present)
                get(v.emplace());
        } else if constexpr (is_vector<T>::value) {
            std::uint32_t n = 0;
            if (count(n))
                v.resize(n);
            for (auto& item : v)
                if (!get(item))
                    break;
        } else {
            T::fields(Fields<T>{*this, v});
        }
        return ok_;
    }
    [[nodiscard]] bool done() const { return ok_ && in_.empty(); }

private:
    template <typename T>
    static constexpr std::uint32_t limit()
    {
        if constexpr (std::is_same_v<T, bool>)
            return 1;
        else if constexpr (std::is_same_v<T, int>)
            return 0x7fffffff;
        else
            return static_cast<std::uint32_t>(last_value(T{}));
    }
    // A count of items that each take at least 4 bytes: never more than what is left.
    bool count(std::uint32_t& n)
    {
        if (!u32(n) || n > in_.size() / 4)
            return ok_ = false;
        return true;
    }

    std::string_view in_;
    bool ok_ = true;
};

} // namespace

std::string snapshot_schema()
{
    Text text;
    Shape<Text>(text).type<Config>();
    return text.value;
}

std::string encode_snapshot(const Config& config, std::string_view text)
{
    Writer w;
    w.raw(magic);
    w.u32(static_cast<std::uint32_t>(schema_fingerprint));
    w.u32(static_cast<std::uint32_t>(schema_fingerprint >> 32));
    w.str(text);
    w.put(config);
    return w.take();
}

std::optional<Config> decode_snapshot(std::string_view snapshot, std::string_view text, const std::string& file)
{
    Reader r(snapshot);
    std::uint32_t low = 0, high = 0;
    std::string_view made_from;
    if (!r.prefix(magic) || !r.u32(low) || !r.u32(high) ||
        ((static_cast<std::uint64_t>(high) << 32) | low) != schema_fingerprint || !r.view(made_from) ||
        made_from != text)
        return std::nullopt;
    Config config;
    if (!r.get(config) || !r.done())
        return std::nullopt;
    config.source = file;
    return config;
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
