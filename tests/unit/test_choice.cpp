// The environment choice: every precedence step and every refusal.
// checks: G
#include "config/choice.hpp"
#include "config/yaml_config.hpp"

#include <doctest/doctest.h>

using namespace chos::config;

namespace {

const Config config = parse_config(R"(default: bookworm
environments:
  bookworm: { path: / }
  bullseye: { path: /srv/bullseye }
  trixie:   { path: /srv/trixie, users: [alice] }
  atlas:    { path: /srv/atlas, groups: [atlas] }
)",
                                   "t.yaml");
const Config no_default = parse_config("environments:\n  a: { path: /srv/a }\n", "t.yaml");

const User alice{1000, 1000, "alice", {}};
const User bob{1001, 1001, "bob", {2000}};
const User root{0, 0, "root", {}};

std::optional<gid_t> groups(const std::string& name)
{
    if (name == "atlas")
        return 2000;
    return std::nullopt;
}

std::string chosen(const Config& c, const User& u, const Request& r)
{
    auto result = choose(c, u, r, groups);
    if (!result)
        return "refused: " + result.error().message();
    return result->environment->name + " via " + std::string(to_string(result->source));
}

} // namespace

TEST_CASE("precedence: -o > $CHOS > ~/.chos > default")
{
    CHECK(chosen(config, alice, {"trixie", "bullseye", "atlas\n", false}) == "trixie via -o");
    CHECK(chosen(config, alice, {std::nullopt, "bullseye", "trixie\n", false}) == "bullseye via $CHOS");
    CHECK(chosen(config, alice, {std::nullopt, std::nullopt, "  trixie  \nbullseye\n", false}) == "trixie via ~/.chos");
    CHECK(chosen(config, alice, {std::nullopt, std::nullopt, std::nullopt, false}) ==
          "bookworm via the configured default");
    // An empty $CHOS or an empty ~/.chos states no preference.
    CHECK(chosen(config, alice, {std::nullopt, "", "bullseye", false}) == "bullseye via ~/.chos");
    CHECK(chosen(config, alice, {std::nullopt, std::nullopt, "\n\n", false}) == "bookworm via the configured default");
}

TEST_CASE("refusals name what was refused and where it came from")
{
    CHECK(chosen(config, alice, {"nope", {}, {}, false}) ==
          "refused: unknown environment: 'nope' (from -o) (see 'chos --list')");
    CHECK(chosen(config, bob, {"trixie", {}, {}, false}) ==
          "refused: environment not allowed: 'trixie' (from -o): not open to this user (see 'chos --list')");
    CHECK(chosen(config, alice, {std::nullopt, "../../etc", {}, false}) ==
          "refused: invalid environment name: '../../etc' (from $CHOS): names are letters, digits, '.', '_', '-' "
          "(see chos.yaml(5))");
    CHECK(chosen(config, alice, {std::nullopt, "%n%s", {}, false}) ==
          "refused: invalid environment name: '\\x25n\\x25s' (from $CHOS): names are letters, digits, '.', '_', '-' "
          "(see chos.yaml(5))");
    CHECK(chosen(config, alice, {std::string(4096, 'x'), {}, {}, false}) ==
          "refused: invalid environment name: '" + std::string(64, 'x') +
              "...' (from -o): names are letters, digits, '.', '_', '-' (see chos.yaml(5))");
    CHECK(chosen(config, alice, {std::nullopt, "a\nb", {}, false}) ==
          "refused: invalid environment name: 'a\\x0ab' (from $CHOS): names are letters, digits, '.', '_', '-' "
          "(see chos.yaml(5))");
    CHECK(chosen(no_default, alice, {std::nullopt, std::nullopt, std::nullopt, false}) ==
          "refused: no environment chosen and no default configured: use -o NAME, $CHOS or ~/.chos (see 'chos --list')");
}

TEST_CASE("allow-list: users, groups (primary or supplementary), root")
{
    CHECK(chosen(config, alice, {"trixie", {}, {}, false}) == "trixie via -o");
    CHECK(chosen(config, bob, {"atlas", {}, {}, false}) == "atlas via -o");
    CHECK(chosen(config, User{1002, 2000, "carol", {}}, {"atlas", {}, {}, false}) == "atlas via -o");
    CHECK(chosen(config, alice, {"atlas", {}, {}, false}).starts_with("refused: environment not allowed: 'atlas'"));
    CHECK(chosen(config, root, {"trixie", {}, {}, false}) == "trixie via -o");
}

TEST_CASE("fail_to_default: a stale $CHOS or ~/.chos falls back, -o never does")
{
    auto r = choose(config, bob, {std::nullopt, std::nullopt, "trixie\n", true}, groups);
    REQUIRE(r);
    CHECK(r->environment->name == "bookworm");
    CHECK(*r->fell_back_from ==
          "environment not allowed: 'trixie' (from ~/.chos): not open to this user (see 'chos --list')");
    CHECK(chosen(config, bob, {std::nullopt, "gone", {}, true}) == "bookworm via the configured default");
    CHECK(chosen(config, bob, {"gone", {}, {}, true}) ==
          "refused: unknown environment: 'gone' (from -o) (see 'chos --list')");
    // Without a default there is nothing to fall back to: the original refusal stands.
    CHECK(chosen(no_default, bob, {std::nullopt, "gone", {}, true}) ==
          "refused: unknown environment: 'gone' (from $CHOS) (see 'chos --list')");
}

TEST_CASE("a refusal names the option the way the entry point spells it")
{
    CHECK(chosen(config, alice, {"nope", std::nullopt, std::nullopt, false, "--chos"}) ==
          "refused: unknown environment: 'nope' (from --chos) (see 'chos --list')");
    CHECK(chosen(config, bob, {"trixie", std::nullopt, std::nullopt, false, "--chos"}) ==
          "refused: environment not allowed: 'trixie' (from --chos): not open to this user (see 'chos --list')");
    // Only the option is renamed: $CHOS and ~/.chos keep their names.
    CHECK(chosen(config, alice, {std::nullopt, "nope", std::nullopt, false, "--chos"}) ==
          "refused: unknown environment: 'nope' (from $CHOS) (see 'chos --list')");
}
