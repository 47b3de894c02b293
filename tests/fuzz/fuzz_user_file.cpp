// libFuzzer target: ~/.chos, the one file read on behalf of a user at every launch,
// login and job (docs/threat-model.md, class I: every parser has a target). Its text
// is whatever the user wrote; after the bounded read (at most 4 KiB: run with
// -max_len=4096) it goes through first_line() and choose(). Besides "no crash":
// - the line used is the first line, trimmed, and appears in the text;
// - a choice from ~/.chos is exactly that line, and an environment this user may use;
// - a refusal is one printable line of bounded length (the name quoted and cut),
//   and with fail_to_default it becomes the default, saying what it replaced.
// checks: I G
#include "config/choice.hpp"
#include "config/yaml_config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace chos::config;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

const Config& config()
{
    static const Config c = parse_config("default: a\n"
                                         "environments:\n"
                                         "  a: { path: / }\n"
                                         "  b: { path: /srv/b }\n"
                                         "  secret: { path: /srv/secret, users: [root] }\n",
                                         "fuzz.yaml");
    return c;
}

std::optional<gid_t> no_groups(const std::string&)
{
    return std::nullopt;
}

bool one_printable_line(const std::string& s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f)
            return false;
    return s.size() < 1024;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto line = first_line(text);
    if (line) {
        check(!line->empty());
        check(line->find('\n') == std::string::npos);
        check(text.find(*line) != std::string::npos);
        check(text.find(*line) <= text.find('\n'));
        check(line->front() != ' ' && line->back() != ' ' && line->front() != '\t' && line->back() != '\t');
    }

    const User alice{1000, 1000, "alice", {}};
    for (bool fall_back : {false, true}) {
        Request request;
        request.user_file = text;
        request.fall_back_to_default = fall_back;
        auto choice = choose(config(), alice, request, no_groups);
        if (choice) {
            check(choice->environment != nullptr);
            check(choice->environment->name != "secret");
            if (choice->source == ChoiceSource::user_file)
                check(line && *line == choice->environment->name && !choice->fell_back_from);
            if (choice->fell_back_from) {
                check(fall_back && choice->environment->name == "a");
                check(one_printable_line(*choice->fell_back_from));
            }
            if (!line)
                check(choice->source == ChoiceSource::config_default && choice->environment->name == "a");
        } else {
            check(!fall_back || !line); // with fail_to_default a bad ~/.chos never refuses
            check(choice.error().source == ChoiceSource::user_file);
            check(one_printable_line(choice.error().message()));
        }
    }
    return 0;
}
