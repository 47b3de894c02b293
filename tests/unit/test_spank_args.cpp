// The arguments of spank_chos (plugstack.conf) and pam_chos (pam.d), one parser
// (enter/entry_args.hpp; spank_chos(8), pam_chos(8) OPTIONS).
// checks: J
#include "enter/entry_args.hpp"

#include <doctest/doctest.h>

using chos::enter::EntryPoint;
using chos::enter::parse_entry_arguments;

namespace {

// The whole message of a refusal, "" when accepted.
std::string refusal(EntryPoint entry, std::vector<std::string_view> args)
{
    auto parsed = parse_entry_arguments(entry, args);
    return parsed ? std::string() : parsed.error().str();
}

} // namespace

TEST_CASE("spank_chos arguments: none")
{
    auto parsed = parse_entry_arguments(EntryPoint::spank, {});
    REQUIRE(parsed);
    CHECK_FALSE(parsed->fail_to_default);
    CHECK_FALSE(parsed->user_file);
    CHECK_FALSE(parsed->debug);
    CHECK(parsed->submit_check);
}

TEST_CASE("spank_chos arguments: submit_check, spank_chos's alone")
{
    auto parsed = parse_entry_arguments(EntryPoint::spank, {"submit_check=no"});
    REQUIRE(parsed);
    CHECK_FALSE(parsed->submit_check);
    CHECK(refusal(EntryPoint::spank, {"submit_check=later"}) == "plugin argument 'submit_check=later': expected yes or no");
    CHECK(refusal(EntryPoint::pam, {"submit_check=no"}) == "unknown module argument 'submit_check=no' (see pam_chos(8))");
}

TEST_CASE("spank_chos arguments: fail_to_default")
{
    for (const char* yes : {"fail_to_default=yes", "fail_to_default=true", "fail_to_default=1"}) {
        auto parsed = parse_entry_arguments(EntryPoint::spank, {yes});
        REQUIRE(parsed);
        CHECK(parsed->fail_to_default == true);
    }
    for (const char* no : {"fail_to_default=no", "fail_to_default=false", "fail_to_default=0"}) {
        auto parsed = parse_entry_arguments(EntryPoint::spank, {no});
        REQUIRE(parsed);
        CHECK(parsed->fail_to_default == false);
    }
    CHECK(refusal(EntryPoint::spank, {"fail_to_default=maybe"}) ==
          "plugin argument 'fail_to_default=maybe': expected yes or no");
    CHECK(refusal(EntryPoint::spank, {"fail_to_default"}) == "plugin argument 'fail_to_default': expected yes or no");
}

TEST_CASE("spank_chos arguments: user_file is a name in $HOME, never a path")
{
    auto parsed = parse_entry_arguments(EntryPoint::spank, {"user_file=.chosrc"});
    REQUIRE(parsed);
    CHECK(parsed->user_file == ".chosrc");
    auto none = parse_entry_arguments(EntryPoint::spank, {"user_file="});
    REQUIRE(none);
    CHECK(none->user_file == "");
    for (const char* bad : {"user_file=../etc/shadow", "user_file=/etc/shadow", "user_file=..", "user_file=.",
                            "user_file=a b", "user_file"})
        CHECK_MESSAGE(refusal(EntryPoint::spank, {bad}).find("expected a file name without '/'") != std::string::npos,
                      bad);
}

TEST_CASE("pam_chos and spank_chos accept user_file exactly as chos.yaml does")
{
    // The configuration's rule, not one of the module's own: what chos.yaml refuses
    // as user_file (a space, a path) the modules refuse too.
    for (const char* name : {".chos", ".chos-test", "chos_rc.2"})
        CHECK(refusal(EntryPoint::pam, {std::string("user_file=") + name}).empty());
    CHECK(refusal(EntryPoint::pam, {"user_file=foo bar"}) ==
          "module argument 'user_file=foo bar': expected a file name without '/' in the home directory (empty: "
          "read none)");
}

TEST_CASE("unknown arguments are refused by both, naming the argument and the manual")
{
    CHECK(refusal(EntryPoint::spank, {"frobnicate"}) == "unknown plugin argument 'frobnicate' (see spank_chos(8))");
    CHECK(refusal(EntryPoint::pam, {"frobnicate"}) == "unknown module argument 'frobnicate' (see pam_chos(8))");
    // root= is pam_chos's alone.
    CHECK(refusal(EntryPoint::spank, {"root=yes"}) == "unknown plugin argument 'root=yes' (see spank_chos(8))");
    CHECK(refusal(EntryPoint::spank, {"x=%n\n"}) == "unknown plugin argument 'x=\\x25n\\x0a' (see spank_chos(8))");
    // One bad argument among good ones is enough.
    CHECK_FALSE(refusal(EntryPoint::pam, {"debug", "fail_to_default=no", "nope"}).empty());
}

TEST_CASE("pam_chos arguments: root, debug")
{
    auto parsed = parse_entry_arguments(EntryPoint::pam, {"root=yes", "debug", "fail_to_default=no"});
    REQUIRE(parsed);
    CHECK(parsed->root);
    CHECK(parsed->debug);
    CHECK(parsed->fail_to_default == false);
    CHECK(refusal(EntryPoint::pam, {"root=maybe"}) == "module argument 'root=maybe': expected yes or no");
    CHECK(refusal(EntryPoint::pam, {"debug=yes"}) == "module argument 'debug=yes': takes no value");
    auto spank = parse_entry_arguments(EntryPoint::spank, {"debug"});
    REQUIRE(spank);
    CHECK(spank->debug);
}
