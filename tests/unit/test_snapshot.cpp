// The configuration snapshot: the same Config as a parse, or nothing -- never a
// different configuration (config/snapshot.hpp).
// checks: J
#include "config/snapshot.hpp"

#include "sample_config.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace chos::config;
namespace fs = std::filesystem;

namespace {

const std::string& full = full_config;
const std::string minimal = "environments:\n  host: { path: / }\n";

const FileTrust me{::getuid()};

} // namespace

TEST_CASE("a snapshot gives back exactly the parsed configuration")
{
    // (with the enums' other values: cgroup2, kmod)
    const std::string other = "backend: kmod\nregistry: { type: cgroup2 }\n" + minimal;
    for (const auto& text : {full, minimal, other}) {
        const Config parsed = parse_config(text, "/etc/chos.yaml");
        const auto decoded = decode_snapshot(encode_snapshot(parsed, text), text, "/etc/chos.yaml");
        REQUIRE(decoded.has_value());
        CHECK(*decoded == parsed);
    }
    // The source is where it was read this time, as a parse would say.
    const Config parsed = parse_config(full, "/a.yaml");
    CHECK(decode_snapshot(encode_snapshot(parsed, full), full, "/b.yaml")->source == "/b.yaml");
}

TEST_CASE("a snapshot of another text is not used")
{
    const Config parsed = parse_config(full, "t.yaml");
    const std::string snapshot = encode_snapshot(parsed, full);
    CHECK_FALSE(decode_snapshot(snapshot, full + "\n", "t.yaml"));
    std::string edited = full;
    edited[edited.find("alice")] = 'A';
    CHECK_FALSE(decode_snapshot(snapshot, edited, "t.yaml"));
    CHECK_FALSE(decode_snapshot(snapshot, "", "t.yaml"));
}

TEST_CASE("a truncated or damaged snapshot is refused or decodes, and never crashes")
{
    const Config parsed = parse_config(full, "t.yaml");
    const std::string snapshot = encode_snapshot(parsed, full);
    for (std::size_t n = 0; n < snapshot.size(); ++n)
        CHECK_FALSE(decode_snapshot(snapshot.substr(0, n), full, "t.yaml"));
    CHECK_FALSE(decode_snapshot(snapshot + '\0', full, "t.yaml"));
    // Any byte, any value: lengths and counts are checked against what is left, enums
    // against their range (the sanitizer build runs this too).
    for (std::size_t i = 0; i < snapshot.size(); ++i) {
        for (int v : {0x00, 0x01, 0x7f, 0xff}) {
            std::string damaged = snapshot;
            damaged[i] = static_cast<char>(v);
            (void)decode_snapshot(damaged, full, "t.yaml");
        }
    }
    CHECK_FALSE(decode_snapshot("", full, "t.yaml"));
    CHECK_FALSE(decode_snapshot("CHOS config snapshot\n", full, "t.yaml"));
}

TEST_CASE("loading through the snapshot: used only when trusted and matching")
{
    TempDir dir;
    const std::string cfg = dir.write("chos.yaml", full);
    const std::string snap = snapshot_path_for(cfg);
    CHECK(snap == cfg + ".snapshot");
    bool from = true;

    SUBCASE("no snapshot: parsed")
    {
        CHECK(load_config_via_snapshot(cfg, me, &from) == parse_config(full, cfg));
        CHECK_FALSE(from);
    }
    SUBCASE("a matching snapshot: used, same configuration")
    {
        dir.write("chos.yaml.snapshot", encode_snapshot(parse_config(full, cfg), full));
        CHECK(load_config_via_snapshot(cfg, me, &from) == parse_config(full, cfg));
        CHECK(from);
    }
    SUBCASE("the configuration was edited after the snapshot: the edit counts")
    {
        dir.write("chos.yaml.snapshot", encode_snapshot(parse_config(full, cfg), full));
        dir.write("chos.yaml", minimal);
        const Config c = load_config_via_snapshot(cfg, me, &from);
        CHECK_FALSE(from);
        CHECK(c == parse_config(minimal, cfg));
    }
    SUBCASE("an edit that breaks the configuration is refused, not covered by the old snapshot")
    {
        dir.write("chos.yaml.snapshot", encode_snapshot(parse_config(full, cfg), full));
        dir.write("chos.yaml", "environments: [\n");
        CHECK_THROWS_AS((void)load_config_via_snapshot(cfg, me, &from), ConfigError);
    }
    SUBCASE("a snapshot writable by others, or a symlink to one, is not trusted")
    {
        const std::string other = dir.write("other", encode_snapshot(parse_config(minimal, cfg), full));
        dir.write("chos.yaml.snapshot", encode_snapshot(parse_config(minimal, cfg), full), 0666);
        CHECK(load_config_via_snapshot(cfg, me, &from) == parse_config(full, cfg));
        CHECK_FALSE(from);
        fs::remove(snap);
        fs::create_symlink(other, snap);
        CHECK(load_config_via_snapshot(cfg, me, &from) == parse_config(full, cfg));
        CHECK_FALSE(from);
    }
    SUBCASE("garbage in the snapshot: parsed")
    {
        dir.write("chos.yaml.snapshot", "not a snapshot");
        CHECK(load_config_via_snapshot(cfg, me, &from) == parse_config(full, cfg));
        CHECK_FALSE(from);
    }
    SUBCASE("the configuration itself is still checked")
    {
        dir.write("chos.yaml.snapshot", encode_snapshot(parse_config(full, cfg), full));
        ::chmod(cfg.c_str(), 0666);
        CHECK_THROWS_AS((void)load_config_via_snapshot(cfg, me, &from), ConfigError);
    }
}

// ---- the snapshot follows the model ------------------------------------------------
//
// The snapshot is derived from the fields() lists of config.hpp. These cases fail when
// a struct of the model gains a member its list does not name (the member would be
// lost between chos-setup and the launcher), and when the schema stops telling two
// models apart.
namespace {

// Converts to anything: T{field_probe{}...} compiles for as many probes as T has members.
struct field_probe {
    template <typename T>
    operator T() const; // never defined: unevaluated only
};

template <typename T, typename... Probes>
constexpr std::size_t member_count()
{
    if constexpr (requires { T{Probes{}..., field_probe{}}; })
        return member_count<T, Probes..., field_probe>();
    else
        return sizeof...(Probes);
}

struct ListedCounter {
    std::size_t n = 0;
    template <typename Member>
    void operator()(const char*, Member)
    {
        ++n;
    }
    template <typename Member>
    void skip(const char*, Member)
    {
        ++n;
    }
};

template <typename T>
std::size_t listed_count()
{
    ListedCounter counter;
    T::fields(counter);
    return counter.n;
}

} // namespace

TEST_CASE("every member of the model is listed in its fields(), so the snapshot carries it")
{
    CHECK(listed_count<Config>() == member_count<Config>());
    CHECK(listed_count<Environment>() == member_count<Environment>());
    CHECK(listed_count<BindMount>() == member_count<BindMount>());
    CHECK(listed_count<RegistryConfig>() == member_count<RegistryConfig>());
    CHECK(listed_count<EnvironmentRules>() == member_count<EnvironmentRules>());
}

TEST_CASE("the schema names every field, and a snapshot of another schema is not decoded")
{
    const std::string schema = snapshot_schema();
    for (const char* name : {"default_environment:s;", "environments:[{name:s;", "keep:?[s];", "set:<s,s>;",
                             "registry:{type:e2;", "personality:e1;", "line:i;", "binds:[{source:s;"})
        CHECK_MESSAGE(schema.find(name) != std::string::npos, name);
    CHECK(schema.find("source:s;default") == std::string::npos); // where it was read: not carried

    // A snapshot records the schema's fingerprint right after its magic line: one of
    // another model (any bit of the fingerprint different) is not decoded.
    const Config parsed = parse_config(full, "t.yaml");
    const std::string snapshot = encode_snapshot(parsed, full);
    const std::size_t at = snapshot.find('\n') + 1;
    for (std::size_t i = at; i < at + 8; ++i) {
        std::string other = snapshot;
        other[i] = static_cast<char>(other[i] ^ 0x10);
        CHECK_FALSE(decode_snapshot(other, full, "t.yaml"));
    }
    CHECK(decode_snapshot(snapshot, full, "t.yaml"));
}
