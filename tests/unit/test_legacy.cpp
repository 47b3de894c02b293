// Import of the original CHOS configuration.
// checks: J
#include "config/legacy.hpp"
#include "config/yaml_config.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace chos::config;

namespace {

const char* original_chos = R"(# comment lines start with '#'
%SHELLS
local:/
sl64:/auto/sl64
/auto/redhat73:/auto/redhat73
default:/auto/sl64
sl64:/elsewhere
broken line

%ENV
PATH
)";

const char* original_sysconfig = R"(CHOS=/etc/chos
BINDMOUNT="/dev /dev/shm /dev/pts /sys /proc /var /var/log /root /boot /sys /proc /selinux"
MAKELINKS="no"
)";

} // namespace

TEST_CASE("%SHELLS: first entry wins, comments and other sections ignored")
{
    std::vector<std::string> warnings;
    auto shells = parse_legacy_shells(original_chos, "chos", warnings);
    REQUIRE(shells.size() == 4);
    CHECK(shells[0].name == "local");
    CHECK(shells[0].path == "/");
    CHECK(shells[2].name == "/auto/redhat73");
    CHECK(shells[3].name == "default");
    CHECK(warnings == std::vector<std::string>{
                          "chos:7: 'sl64' was already defined: ignored (the first entry wins)",
                          "chos:8: no ':' in 'broken line': ignored",
                          "chos:10: section %ENV is ignored (only %SHELLS is imported)",
                      });
}

TEST_CASE("BINDMOUNT becomes the bind list")
{
    std::vector<std::string> warnings;
    auto dirs = parse_legacy_bindmount(original_sysconfig, "sysconfig", warnings);
    CHECK(dirs.size() == 12);
    CHECK(dirs.front() == "/dev");
    CHECK(warnings.empty());
}

TEST_CASE("the imported YAML is a configuration the parser accepts, equivalent to the original")
{
    auto result = import_legacy(original_chos, "chos", original_sysconfig, "sysconfig");
    const Config c = parse_config(result.yaml, "imported.yaml");
    REQUIRE(c.environments.size() == 3);
    CHECK(c.find("local")->is_host());
    CHECK(c.find("sl64")->path == "/auto/sl64");
    CHECK(c.find("auto_redhat73")->path == "/auto/redhat73");
    CHECK(c.default_environment == "sl64"); // 'default' shared sl64's path
    CHECK_FALSE(c.fail_to_default);
    // duplicates dropped, /var and /boot shared from the host so not per-OS any more
    CHECK(c.binds.size() == 10);
    for (const auto& b : c.binds)
        CHECK(b.optional);
    CHECK(std::find(c.os_dirs.begin(), c.os_dirs.end(), "var") == c.os_dirs.end());
    CHECK(std::find(c.os_dirs.begin(), c.os_dirs.end(), "boot") == c.os_dirs.end());
    CHECK(std::find(c.os_dirs.begin(), c.os_dirs.end(), "usr") != c.os_dirs.end());
    CHECK(std::find(result.warnings.begin(), result.warnings.end(),
                    "chos:5: name '/auto/redhat73' is imported as 'auto_redhat73' (names cannot be paths)") !=
          result.warnings.end());
}

TEST_CASE("a default with its own path becomes an environment named default")
{
    auto result = import_legacy("%SHELLS\nroot:/\ndefault:/os/x\n", "chos", std::nullopt, "");
    const Config c = parse_config(result.yaml, "imported.yaml");
    CHECK(c.default_environment == "default");
    CHECK(c.find("default")->path == "/os/x");
}

TEST_CASE("hostile paths are quoted safely")
{
    auto result = import_legacy("%SHELLS\nx:/a\"b\\c\n", "chos", std::nullopt, "");
    const Config c = parse_config(result.yaml, "imported.yaml");
    CHECK(c.find("x")->path == "/a\"b\\c");
}

TEST_CASE("a path inside the tree is not imported (found by fuzz_legacy)")
{
    auto result = import_legacy("%SHELLS\nroot:/\nx:/chos/x\n", "chos", std::nullopt, "");
    const Config c = parse_config(result.yaml, "imported.yaml");
    CHECK(c.find("x") == nullptr);
    CHECK(result.warnings == std::vector<std::string>{"chos:3: path '/chos/x' lies inside the CHOS tree /chos: ignored"});
}
