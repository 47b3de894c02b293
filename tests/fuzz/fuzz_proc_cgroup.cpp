// libFuzzer target for the /proc/<pid>/cgroup parsers of the registry
// (docs/threat-model.md: every parser has a fuzz target). Besides "no crash", it checks
// the fail-closed invariants a wrong answer would break:
// - a registration is only ever a valid environment name;
// - cgroup1 paths only register at exactly one level below the root;
// - cgroup2 only registers a clean path whose last component is chos-<name>.
// checks: P8 K2
#include "config/names.hpp"
#include "registry/registry.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace chos::registry;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

void check_membership(const std::optional<Membership>& m)
{
    if (m && m->registered)
        check(chos::config::is_valid_environment_name(m->environment));
    if (m && !m->registered)
        check(m->environment.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    for (std::string_view hierarchy : {"chos", "systemd", "chosX"}) {
        auto p1 = cgroup1_path(text, hierarchy);
        if (!p1)
            continue;
        // the line it came from is complete and names exactly this hierarchy
        check(text.find(std::string(":name=") + std::string(hierarchy) + ":" + *p1 + "\n") !=
              std::string_view::npos);
        auto m = membership_from_cgroup1(*p1);
        check_membership(m);
        if (m && m->registered)
            check(*p1 == "/" + m->environment);
        if (m && !m->registered)
            check(*p1 == "/");
    }

    if (auto p2 = cgroup2_path(text)) {
        check(text.find("0::" + *p2 + "\n") != std::string_view::npos);
        auto m = membership_from_cgroup2(*p2);
        check_membership(m);
        if (m)
            check(is_clean_cgroup_path(*p2));
        if (m && m->registered)
            check(p2->ends_with("/chos-" + m->environment));
    }

    // the path parsers directly on arbitrary bytes
    check_membership(membership_from_cgroup1(text));
    check_membership(membership_from_cgroup2(text));
    return 0;
}
