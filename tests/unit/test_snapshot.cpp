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
