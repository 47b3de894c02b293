// The audit line and the timings (see audit.hpp).
#include "enter/audit.hpp"

#include "config/names.hpp"

#include <cstdio>

namespace chos::enter {

std::string audit_line(const EnterReport& report, std::string_view result, std::initializer_list<AuditField> extra)
{
    std::string line = "user=" + (report.user_name.empty() ? "-" : config::quote_for_message(report.user_name));
    line += " uid=" + (report.uid == static_cast<uid_t>(-1) ? std::string("-") : std::to_string(report.uid));
    line += " env=" + (report.environment.empty() ? "-" : config::quote_for_message(report.environment));
    for (const auto& field : extra) {
        line += ' ';
        line += field.key;
        line += '=';
        line += field.value.empty() ? "-" : config::quote_for_message(field.value);
    }
    line += " result=";
    line += result;
    return line;
}

std::vector<std::string> timing_lines(const EnterReport& report)
{
    std::vector<std::string> lines;
    lines.push_back(std::string("configuration: ") + (report.config_from_snapshot ? "from the snapshot" : "parsed"));
    for (int p = 0; p < static_cast<int>(Phase::count); ++p) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(report.phase_ns[static_cast<std::size_t>(p)]) / 1e6);
        lines.push_back(std::string("phase ") + to_string(static_cast<Phase>(p)) + ": " + ms + " ms");
    }
    return lines;
}

} // namespace chos::enter
