// spank_chos's plugstack.conf arguments (spank_chos(8) OPTIONS).
// checks: J
#include "spank/plugin_args.hpp"

#include <doctest/doctest.h>

using chos::spank::parse_plugin_args;

TEST_CASE("spank_chos arguments: none")
{
    auto parsed = parse_plugin_args({});
    CHECK(parsed.error.empty());
    CHECK_FALSE(parsed.args.fail_to_default);
    CHECK_FALSE(parsed.args.user_file);
}

TEST_CASE("spank_chos arguments: fail_to_default")
{
    for (const char* yes : {"yes", "true", "1"}) {
        auto parsed = parse_plugin_args({std::string("fail_to_default=") + yes});
        CHECK(parsed.error.empty());
        CHECK(parsed.args.fail_to_default == true);
    }
    for (const char* no : {"no", "false", "0"}) {
        auto parsed = parse_plugin_args({std::string("fail_to_default=") + no});
        CHECK(parsed.error.empty());
        CHECK(parsed.args.fail_to_default == false);
    }
    auto bad = parse_plugin_args({"fail_to_default=maybe"});
    CHECK(bad.error == "plugin argument 'fail_to_default=maybe': expected yes or no");
}

TEST_CASE("spank_chos arguments: user_file is a name in $HOME, never a path")
{
    auto parsed = parse_plugin_args({"user_file=.chosrc"});
    CHECK(parsed.error.empty());
    CHECK(parsed.args.user_file == ".chosrc");
    auto none = parse_plugin_args({"user_file="});
    CHECK(none.error.empty());
    CHECK(none.args.user_file == "");
    for (const char* bad : {"user_file=../etc/shadow", "user_file=/etc/shadow", "user_file=..", "user_file=."})
        CHECK_FALSE(parse_plugin_args({bad}).error.empty());
}

TEST_CASE("spank_chos arguments: unknown ones are refused, hostile text quoted")
{
    CHECK(parse_plugin_args({"debug"}).error == "unknown plugin argument 'debug' (see spank_chos(8))");
    CHECK(parse_plugin_args({"fail_to_default"}).error ==
          "unknown plugin argument 'fail_to_default' (see spank_chos(8))");
    CHECK(parse_plugin_args({"x=%n\n"}).error == "unknown plugin argument 'x=\\x25n\\x0a' (see spank_chos(8))");
}
