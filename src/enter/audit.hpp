// What every entry point writes about an entry, in one format (chos-audit(5)):
//
//   user=<name> uid=<uid> env=<environment> [<key>=<value> ...] result=<result>
//
// one line per launch (chos, chos-run: syslog authpriv), per session (pam_chos) and per
// task (spank_chos), never an environment variable's value. Unknown values are "-";
// names and values a user chose are quoted as in messages (config/names.hpp). The
// entry point's own keys come between env and result: cmd=<basename> for the
// launcher, job=<id> step=<step> for spank_chos. result is last and may hold spaces:
// ok (the launcher, right before exec), entered (pam_chos, spank_chos),
// refused: <why>, failed: <why>.
#pragma once

#include "enter/enter.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace chos::enter {

struct AuditField {
    std::string_view key;
    std::string value; // quoted by audit_line()
};

[[nodiscard]] std::string audit_line(const EnterReport& report, std::string_view result,
                                     std::initializer_list<AuditField> extra = {});

// The per-phase timings of an entry, one line each ("configuration: parsed",
// "phase registration: 0.212 ms", ...), for --debug and the modules' debug argument.
[[nodiscard]] std::vector<std::string> timing_lines(const EnterReport& report);

} // namespace chos::enter
