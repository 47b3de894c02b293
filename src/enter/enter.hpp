// libchos_enter: the ordered privileged sequence of docs/architecture.md "Entering",
// shared by the launcher (chos, chos-run), pam_chos and spank_chos so that none of
// them re-implements a step.
//
// Called setuid root. Returns values; no exception escapes (config errors become an
// Error holding the first diagnostic line). Library code: it never logs -- the caller
// writes the audit line from the report (before_exec for the launcher, which execs).
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chos::enter {

enum class EntryPoint { launcher, pam, spank };

// Exit statuses of the launcher (chos-run(1)).
inline constexpr int exit_launcher_failure = 125;
inline constexpr int exit_not_executable = 126;
inline constexpr int exit_not_found = 127;

enum class Phase { config, registration, chroot, drop, exec, count };
[[nodiscard]] const char* to_string(Phase phase);

// What happened, for the caller's audit line and --debug output. Filled as the steps run.
struct EnterReport {
    std::string user_name;                  // "" until resolved
    uid_t uid = static_cast<uid_t>(-1);
    std::string environment;                // "" until chosen
    std::string command;                    // basename of what is run
    std::optional<std::string> fell_back_from; // fail_to_default replaced a choice
    std::string user_file_note;             // why ~/.chos was treated as absent
    int exit_status = exit_launcher_failure; // for a failed enter()
    std::array<std::int64_t, static_cast<int>(Phase::count)> phase_ns{}; // per-phase time
    bool config_from_snapshot = false;      // chos-setup's snapshot, not a parse
};

struct EnterRequest {
    EntryPoint entry = EntryPoint::launcher;
    std::optional<std::string> option;      // -o NAME / --chos=NAME
    std::string option_name = "-o";         // how messages name it ("--chos" for SPANK)
    // Login/batch: does an invalid $CHOS or ~/.chos fall back to the default? Empty: the
    // config's fail_to_default. The launcher never falls back (it reports the error).
    std::optional<bool> fail_to_default;
    // PAM/SPANK module argument overriding the config's user_file ("" = do not read one).
    std::optional<std::string> user_file;
    int argc = 0;                           // the entry's argc (0 is refused: pkexec CVE-2021-4034)
    // PAM/SPANK: whose login or job this is (the process itself runs as root). The
    // launcher leaves it empty: the user is always the real uid.
    std::optional<uid_t> user;
    char** caller_env = nullptr;            // the caller's environment (environ)
    // What to run. Empty: the user's login shell, argv[0] "-<basename>".
    std::vector<std::string> command;
    // Launcher only: the name it was run as, when that is a host command's
    // (host_commands: /.chos/bin/<name>); `command` is then that program's argv.
    std::optional<std::string> host_command;
    // Called right after the re-root to the host's view, still root: where the caller
    // opens its syslog socket (never connect to a /dev/log inside a tree).
    std::function<void()> on_host_view;
    // Launcher only: called after the drop, right before execve, with the full report
    // (the audit line and --debug timings are written there: exec leaves no "after").
    std::function<void(const EnterReport&)> before_exec;
    // PAM/SPANK: stop after step 9 and return instead of exec'ing. Such an entry runs
    // inside a root daemon's process (sshd, slurmstepd): steps 1 (sanitize) and 8 (drop,
    // working directory) are the host program's job and are skipped; the returned
    // process is still root, registered and chrooted.
    bool exec = true;
};

// What a non-exec'ing entry (PAM, SPANK) gets back.
struct Entered {
    std::string environment;
    std::vector<std::string> envp;          // the child's environment, "NAME=value"
};

// Steps 1-10 in order. For the launcher this only returns on failure (exec replaced
// the process); report.exit_status then says 125/126/127.
[[nodiscard]] Result<Entered> enter(const EnterRequest& request, EnterReport& report);

// --- chos --list / --current / --version (read-only, no registration)
struct ListedEnvironment {
    std::string name;
    std::string description;
    bool is_default = false;
    bool current = false;
};
struct Overview {
    std::vector<ListedEnvironment> environments; // those the user may use, in file order
    std::string current;                          // "" when unregistered and no host environment
    bool on_host = false;                         // current is the host environment: unregistered
    std::string chosen;                           // what a launch without -o enters ("" when refused)
    std::string chosen_from;                      // why: "$CHOS", "~/.chos", "the configured default"
    std::string backend;                          // "fuse" / "kmod"
};
// Re-root, read the config and the caller's registration, then drop privileges for
// good (the caller prints as the user). $CHOS is the fallback for `current`.
[[nodiscard]] Result<Overview> overview(int argc, char** caller_env);

} // namespace chos::enter
