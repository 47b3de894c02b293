// The /proc/<pid>/cgroup parsers of the registry: every doubtful input must come
// out as nullopt (fail closed, P8 in docs/properties.md), never as another environment.
// checks: P8 K2
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "link/kmod_proc.hpp"
#include "registry/registry.hpp"

#include <string>

using namespace chos::registry;

namespace {

// What a hybrid host (this project's CI machines) shows.
const std::string hybrid = "12:name=chos:/bullseye\n"
                           "9:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
                           "4:memory:/user.slice\n"
                           "1:cpu:/\n"
                           "0::/user.slice/user-1000.slice/session-3.scope\n";

} // namespace

TEST_CASE("cgroup1_path finds the exact name=<hierarchy> line")
{
    CHECK(cgroup1_path(hybrid, "chos") == "/bullseye");
    CHECK(cgroup1_path(hybrid, "systemd") == "/user.slice/user-1000.slice/session-3.scope");
    CHECK(cgroup1_path("3:name=chos:/\n", "chos") == "/");
    // the line may come anywhere
    CHECK(cgroup1_path("0::/\n1:cpu:/\n7:name=chos:/trixie\n", "chos") == "/trixie");
}

TEST_CASE("cgroup1_path refuses look-alike hierarchy names")
{
    CHECK_FALSE(cgroup1_path("12:name=chosX:/bullseye\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:name=cho:/bullseye\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:name=chos2:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:xname=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:cpu,name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:name=chos,cpu:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:NAME=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("0::/chos\n", "chos"));
    // the look-alike does not hide or replace the real line
    CHECK(cgroup1_path("13:name=chosX:/evil\n12:name=chos:/good\n", "chos") == "/good");
    CHECK(cgroup1_path("12:name=chos:/good\n13:name=chosX:/evil\n", "chos") == "/good");
    CHECK(cgroup1_path("12:name=chosX:/x\n", "chosX") == "/x");
}

TEST_CASE("cgroup1_path fails closed on malformed text")
{
    CHECK_FALSE(cgroup1_path("", "chos"));
    CHECK_FALSE(cgroup1_path("\n\n", "chos"));
    CHECK_FALSE(cgroup1_path(hybrid, ""));
    // truncated: "/bullseye" cut to "/bull" must not be read as environment "bull"
    CHECK_FALSE(cgroup1_path("12:name=chos:/bull", "chos"));
    CHECK_FALSE(cgroup1_path("1:cpu:/\n12:name=chos:/bull", "chos"));
    // two matching lines are ambiguous, not "first wins"
    CHECK_FALSE(cgroup1_path("12:name=chos:/a\n13:name=chos:/b\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:name=chos:/a\n12:name=chos:/a\n", "chos"));
    // the id field must be a number
    CHECK_FALSE(cgroup1_path(":name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("x:name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("-1:name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12 :name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("name=chos:/a\n", "chos"));
    CHECK_FALSE(cgroup1_path("12:name=chos\n", "chos"));
    // unrelated garbage lines are skipped
    CHECK(cgroup1_path("garbage\n::\n12:name=chos:/a\n", "chos") == "/a");
    // NUL bytes are data, not terminators
    CHECK_FALSE(cgroup1_path(std::string("12:name=ch\0os:/a\n", 17), "chos"));
}

TEST_CASE("cgroup1_path keeps colons and spaces inside the path")
{
    CHECK(cgroup1_path("12:name=chos:/a:b\n", "chos") == "/a:b");
    CHECK(cgroup1_path("12:name=chos:/a b\n", "chos") == "/a b");
    CHECK(cgroup1_path("12:name=chos:\n", "chos") == "");
}

TEST_CASE("cgroup2_path finds the single 0:: line")
{
    CHECK(cgroup2_path(hybrid) == "/user.slice/user-1000.slice/session-3.scope");
    CHECK(cgroup2_path("0::/\n") == "/");
    CHECK(cgroup2_path("0::/a/chos-bullseye\n") == "/a/chos-bullseye");
    CHECK(cgroup2_path("0::/a:b\n") == "/a:b");
    CHECK_FALSE(cgroup2_path(""));
    CHECK_FALSE(cgroup2_path("1:cpu:/\n"));
    CHECK_FALSE(cgroup2_path("0:cpu:/x\n"));
    CHECK_FALSE(cgroup2_path("00::/x\n"));
    CHECK_FALSE(cgroup2_path("0::/x"));                  // unterminated
    CHECK_FALSE(cgroup2_path("0::/a\n0::/b\n"));         // ambiguous
    CHECK_FALSE(cgroup2_path("12:name=chos:/a\n0::/b")); // truncated
}

TEST_CASE("membership_from_cgroup1: root is unregistered, one valid level is an environment")
{
    auto root = membership_from_cgroup1("/");
    REQUIRE(root);
    CHECK_FALSE(root->registered);

    auto env = membership_from_cgroup1("/bullseye");
    REQUIRE(env);
    CHECK(env->registered);
    CHECK(env->environment == "bullseye");

    auto dotted = membership_from_cgroup1("/debian-11.8_x");
    REQUIRE(dotted);
    CHECK(dotted->environment == "debian-11.8_x");
}

TEST_CASE("membership_from_cgroup1 fails closed on anything else")
{
    for (const char* bad : {"", "bullseye", "//", "/x/y", "/bullseye/", "/bullseye/sub", "/..", "/.", "/../x",
                            "/-o", "/.hidden", "/a b", "/a%n", "/\xc3\xa9t\xc3\xa9", " /a", "/a\n"}) {
        CAPTURE(bad);
        CHECK_FALSE(membership_from_cgroup1(bad));
    }
    CHECK(membership_from_cgroup1("/" + std::string(64, 'a')));
    CHECK_FALSE(membership_from_cgroup1("/" + std::string(65, 'a')));
}

TEST_CASE("membership_from_cgroup2: only a chos-<name> leaf is a registration")
{
    auto scope = membership_from_cgroup2("/user.slice/user-1000.slice/session-3.scope");
    REQUIRE(scope);
    CHECK_FALSE(scope->registered);

    auto root = membership_from_cgroup2("/");
    REQUIRE(root);
    CHECK_FALSE(root->registered);

    auto leaf = membership_from_cgroup2("/user.slice/session-3.scope/chos-bullseye");
    REQUIRE(leaf);
    CHECK(leaf->registered);
    CHECK(leaf->environment == "bullseye");

    auto top = membership_from_cgroup2("/chos-trixie");
    REQUIRE(top);
    CHECK(top->environment == "trixie");

    // an ancestor named chos-* does not register what is below it
    auto below = membership_from_cgroup2("/a/chos-bullseye/sub");
    REQUIRE(below);
    CHECK_FALSE(below->registered);

    // not the prefix
    for (const char* other : {"/chosen", "/CHOS-x", "/a/chos_x", "/a/xchos-y", "/chos"}) {
        CAPTURE(other);
        auto m = membership_from_cgroup2(other);
        REQUIRE(m);
        CHECK_FALSE(m->registered);
    }
}

TEST_CASE("membership_from_cgroup2 fails closed on malformed paths and invalid names")
{
    for (const char* bad : {"", "chos-x", "relative/chos-x", "/chos-", "/a/chos-..", "/a/chos-.x", "/a/chos--o",
                            "/a/chos-a b", "/a/../chos-x", "/./chos-x", "//chos-x", "/a//chos-x", "/a/chos-x/",
                            "/..", "/a/..", "/a/chos-\xc3\xa9"}) {
        CAPTURE(bad);
        CHECK_FALSE(membership_from_cgroup2(bad));
    }
    CHECK(membership_from_cgroup2("/a/chos-" + std::string(64, 'z')));
    CHECK_FALSE(membership_from_cgroup2("/a/chos-" + std::string(65, 'z')));
}

TEST_CASE("is_clean_cgroup_path")
{
    CHECK(is_clean_cgroup_path("/"));
    CHECK(is_clean_cgroup_path("/a"));
    CHECK(is_clean_cgroup_path("/a/b.c/..d"));
    CHECK_FALSE(is_clean_cgroup_path(""));
    CHECK_FALSE(is_clean_cgroup_path("a"));
    CHECK_FALSE(is_clean_cgroup_path("//"));
    CHECK_FALSE(is_clean_cgroup_path("/a/"));
    CHECK_FALSE(is_clean_cgroup_path("/a/./b"));
    CHECK_FALSE(is_clean_cgroup_path("/a/../b"));
    CHECK_FALSE(is_clean_cgroup_path("/.."));
}

TEST_CASE("the parsers compose: text to membership")
{
    auto path = cgroup1_path(hybrid, "chos");
    REQUIRE(path);
    auto m = membership_from_cgroup1(*path);
    REQUIRE(m);
    CHECK(m->environment == "bullseye");

    auto p2 = cgroup2_path("0::/system.slice/ssh.service/chos-trixie\n");
    REQUIRE(p2);
    auto m2 = membership_from_cgroup2(*p2);
    REQUIRE(m2);
    CHECK(m2->environment == "trixie");
}

TEST_CASE("kmod answers: the long target from the host, its tail after the tree inside it, nothing else")
{
    using chos::link::kmod::answers;
    const std::string target = "/chos/.chos/os/a";
    CHECK(answers("/chos/.chos/os/a", target, "/chos"));
    CHECK(answers("/.chos/os/a", target, "/chos"));
    CHECK_FALSE(answers("/.chos/os/b", target, "/chos"));
    CHECK_FALSE(answers("/chos/.chos/os/b", target, "/chos"));
    CHECK_FALSE(answers(".chos/os/a", target, "/chos"));
    CHECK_FALSE(answers("", target, "/chos"));
    // The tail is cut at a whole component: "/chosen" is not inside "/chos".
    CHECK_FALSE(answers("en/.chos/os/a", "/chosen/.chos/os/a", "/chos"));
    CHECK_FALSE(answers("/", "/chos/", "/chos"));
}
