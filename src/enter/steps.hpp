// The steps of docs/architecture.md "Entering", one concern per file. enter.cpp
// calls them in order; nothing else should. Every step returns a Result and never
// logs (library code does not log: its caller does).
#pragma once

#include "common/error.hpp"
#include "config/choice.hpp"
#include "config/config.hpp"
#include "enter/user_db.hpp"
#include "link/backend.hpp"

#include <csignal>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chos::enter {

struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    friend bool operator==(const FileId&, const FileId&) = default;
};

// What the caller had, kept so the child gets it back (class E: the child has what
// the caller gave it).
struct CallerState {
    mode_t umask = 022;
    sigset_t blocked{};                // the caller's signal mask
    std::vector<int> ignored_signals;  // SIG_IGN in the caller (nohup must keep working)
    std::optional<std::string> cwd;    // getcwd() before the re-root; nullopt if unreachable
    std::optional<FileId> root;        // the caller's root directory (remember_root)
};

// --- sanitize.cpp (step 1)
// argc 0 refused; fds 0-2 opened on /dev/null when closed; signals to default and
// unblocked for the privileged part; umask 022. Returns what to restore for the child.
[[nodiscard]] Result<CallerState> sanitize(int argc);
// Give the child the caller's umask, signal mask and ignored signals back.
void restore_caller_state(const CallerState& caller) noexcept;

// --- reroot.cpp
// setns() into our own mount namespace: root and cwd become the namespace's root, so
// nothing below is read from an environment tree (sudo --chroot CVE-2025-32463). The
// link backend's host_view() follows once the configuration is read. True when the
// caller's root was not the namespace's (a chroot: an environment's or one of its own).
[[nodiscard]] Result<bool> reroot_to_host(const std::optional<FileId>& caller_root);
// The cwd as a path (before the re-root); nullopt when getcwd fails or the cwd is
// outside the caller's root (runc CVE-2024-21626: never "(unreachable)/...").
[[nodiscard]] std::optional<std::string> remember_cwd();
// The caller's root directory (before the re-root): was it a chroot (reroot_to_host),
// is it the tree (host commands)?
[[nodiscard]] std::optional<FileId> remember_root();

// --- identity.cpp (step 3)
struct Identity {
    config::User user;          // real uid, gid, name, supplementary groups
    std::string home;           // passwd home ("" when none)
    std::string shell;          // passwd shell ("" when none)
    UserDbAccess access = UserDbAccess::nss; // how this entry asks the user database
};
// The launcher: the real ids of the process and its supplementary groups. PAM/SPANK
// (user given): that user's passwd entry and the groups of its group database entry.
[[nodiscard]] Result<Identity> resolve_identity(std::optional<uid_t> user);

// --- user_file.cpp (step 4)
struct UserFile {
    std::optional<std::string> text;   // content (<= 4 KiB) when readable
    std::string absent_reason;          // why not, when text is nullopt (never content)
};
inline constexpr std::size_t max_user_file_size = 4096;
// Read <home>/<name> with the user's rights only, in a child that dropped to the user.
[[nodiscard]] UserFile read_user_file(const Identity& who, const std::string& name);

// --- register.cpp (step 6)
// Register the calling process in env, between the link backend's before_register
// (is the link served?) and after_register (make it answer with env).
[[nodiscard]] Result<> register_process(const config::Config& config, const config::Environment& env,
                                        const link::Backend& link);

// --- chroot.cpp (step 7)
[[nodiscard]] Result<> enter_root(const config::Config& config, const config::Environment& env);
// After the drop, with the user's rights: the saved cwd if it exists here, else home, else /.
[[nodiscard]] std::string enter_working_directory(const std::optional<std::string>& cwd,
                                                  const std::string& home);

// --- drop.cpp (step 8)
[[nodiscard]] Result<> drop_privileges(const config::User& user);

// --- environment.cpp (step 9)
[[nodiscard]] std::vector<std::string> child_environment(char** caller_env, const config::Config& config,
                                                         const config::Environment& env);
[[nodiscard]] Result<> apply_personality(const config::Environment& env);
// The caller's variables as they are (a host command's child: its job variables and
// $CHOS go on unchanged); only entries that are not NAME=value, and repeats, dropped.
[[nodiscard]] std::vector<std::string> caller_environment(char** caller_env);

// --- host_command.cpp (host_commands: steps 4-7 of a host command)
struct HostCommand {
    std::string program;                // absolute host path, or a name for `search_path`
    std::string search_path;            // where a name is looked for (the host's system PATH)
    std::optional<std::string> cwd;     // the caller's working directory, as it named it
    std::optional<std::string> cwd_in_tree; // <tree>/<cwd>, when the caller is inside the tree
};
// The program the caller asked for by name (argv[0]), or why not.
[[nodiscard]] Result<HostCommand> host_command(const config::Config& config, const std::string& name,
                                               const CallerState& caller);
// After the drop (its stats run with the user's rights): the caller's working directory
// as seen from the host.
[[nodiscard]] std::optional<std::string> host_working_directory(const HostCommand& command);

// --- exec.cpp (step 10)
// Only returns on failure; err is the errno that decides 126/127. A file without '/'
// is looked for in `search_path`, else in the child's PATH (as execvpe() would).
[[nodiscard]] Error exec_command(const std::string& file, const std::vector<std::string>& argv,
                                 const std::vector<std::string>& envp,
                                 const std::optional<std::string>& search_path = std::nullopt);

} // namespace chos::enter
