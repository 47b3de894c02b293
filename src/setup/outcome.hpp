// What a chos-setup command did, and the one place that prints it (docs/architecture.md
// "chos-setup"). The commands decide and collect; print() writes, in this order:
//   stdout: text as is, then "chos-setup: <note>" (--verbose only) and
//           "chos-setup: <message>";
//   stderr: diagnostics as is ("FILE:LINE:COL: ..."), "chos-setup: warning: <warning>",
//           "chos-setup: <error>".
#pragma once

#include "common/error.hpp"
#include "common/report.hpp"

#include <string>
#include <vector>

namespace chos::setup {

struct Outcome : Report {
    int status = 0;
    std::vector<std::string> text;        // stdout, as is, newlines included (tables, YAML)
    std::vector<std::string> diagnostics; // stderr, as is
    std::vector<std::string> errors;      // stderr, one line each

    // An error line; the status becomes `status` (1 unless told).
    Outcome& fail(const Error& error, int exit_status = 1);
    Outcome& fail(std::string line, int exit_status = 1);
};

// Print `outcome` and return its status.
int print(const Outcome& outcome, bool verbose);

} // namespace chos::setup
