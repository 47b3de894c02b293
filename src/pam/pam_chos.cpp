// pam_chos: a login lands in the user's environment (pam_chos(8)).
//
// A session module only. open_session resolves the PAM user, then hands everything
// else -- choice, allow-list, registration, chroot, the child's environment, the
// arguments, the audit line -- to libchos_enter (a second copy of that logic in an
// entry point is a bug: docs/architecture.md "Entering").
// The process that calls us (sshd's privileged session process) stays root; sshd
// drops privileges and changes directory itself, inside the tree, after we return.
//
// No exception leaves this file: a PAM module runs inside someone else's process.
#include "common/layout.hpp"
#include "config/names.hpp"
#include "enter/audit.hpp"
#include "enter/enter.hpp"
#include "enter/entry_args.hpp"
#include "enter/env_diff.hpp"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <pwd.h>
#include <string>
#include <string_view>
#include <syslog.h>
#include <unistd.h>
#include <vector>

namespace {

// The PAM environment as a NULL-terminated char** the library reads; freed by the dtor.
class PamEnvironment {
public:
    explicit PamEnvironment(pam_handle_t* pamh) : list_(pam_getenvlist(pamh)) {}
    ~PamEnvironment()
    {
        if (!list_)
            return;
        for (char** e = list_; *e; ++e) {
            std::memset(*e, 0, std::strlen(*e));
            std::free(*e);
        }
        std::free(list_);
    }
    PamEnvironment(const PamEnvironment&) = delete;
    PamEnvironment& operator=(const PamEnvironment&) = delete;
    char** get() const { return list_; }

private:
    char** list_;
};

// The PAM environment becomes what the library computed for the child: CHOS=NAME,
// the config's set/unset/keep rules, PATH reaching /.chos/bin. sshd copies the PAM
// environment into the session after its own defaults.
int apply_environment(pam_handle_t* pamh, const PamEnvironment& before, const std::vector<std::string>& envp)
{
    const auto diff = chos::enter::diff_environment(before.get(), envp);
    for (const auto& entry : diff.set)
        if (int rc = pam_putenv(pamh, entry.c_str()); rc != PAM_SUCCESS)
            return rc;
    // "NAME" without '=' deletes it.
    for (const auto& name : diff.unset)
        (void)pam_putenv(pamh, name.c_str());
    return PAM_SUCCESS;
}

// CHOS_NOTE: what the session was told through PAM, for those who never see PAM's
// messages -- sshd shows them only to a terminal login without a command, so the
// environment's /etc/ssh/sshrc that chos-setup lays over it prints this on stderr when
// there is no terminal (setup/overlays.hpp). Unset when there is nothing to say, so a
// value from elsewhere is never shown as ours.
int set_note(pam_handle_t* pamh, const std::string& told)
{
    const std::string name(chos::layout::note_variable);
    if (told.empty()) {
        (void)pam_putenv(pamh, name.c_str()); // "NAME" alone deletes it (absent: PAM_BAD_ITEM)
        return PAM_SUCCESS;
    }
    return pam_putenv(pamh, (name + "=" + told).c_str());
}

// One line per session (chos-audit(5)).
void audit(pam_handle_t* pamh, int priority, const chos::enter::EnterReport& report, const std::string& result)
{
    pam_syslog(pamh, priority, "%s", chos::enter::audit_line(report, result).c_str());
}

std::optional<uid_t> uid_of(const char* user)
{
    struct passwd pw {};
    struct passwd* found = nullptr;
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
    for (;;) {
        int rc = ::getpwnam_r(user, &pw, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < (1U << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0 || !found)
            return std::nullopt;
        return found->pw_uid;
    }
}

int open_session(pam_handle_t* pamh, int argc, const char** argv)
{
    std::vector<std::string_view> arguments;
    for (int i = 0; i < argc; ++i)
        arguments.emplace_back(argv[i] ? argv[i] : "");
    const auto args = chos::enter::parse_entry_arguments(chos::enter::EntryPoint::pam, arguments);
    if (!args) {
        pam_syslog(pamh, LOG_ERR, "%s", args.error().str().c_str());
        return PAM_SESSION_ERR;
    }

    const void* item = nullptr;
    if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || !item) {
        pam_syslog(pamh, LOG_ERR, "no user name");
        return PAM_SESSION_ERR;
    }
    const char* user = static_cast<const char*>(item);
    const std::string quoted_user = chos::config::quote_for_message(user);
    auto uid = uid_of(user);
    if (!uid) {
        pam_syslog(pamh, LOG_ERR, "unknown user '%s'", quoted_user.c_str());
        return PAM_USER_UNKNOWN;
    }
    if (*uid == 0 && !args->root) {
        if (args->debug)
            pam_syslog(pamh, LOG_DEBUG, "root's session is not switched (root=no)");
        return PAM_IGNORE;
    }

    PamEnvironment pam_env(pamh);
    chos::enter::EnterRequest request;
    request.entry = chos::enter::EntryPoint::pam;
    request.user = *uid;
    request.exec = false;
    request.argc = 1;
    request.caller_env = pam_env.get();
    request.fail_to_default = args->fail_to_default;
    request.user_file = args->user_file;
    // Connect the syslog socket while we see the host's /dev/log: every line below is
    // written after the chroot, where /dev/log would be the tree's.
    request.on_host_view = [] { ::openlog(nullptr, LOG_NDELAY, LOG_AUTHPRIV); };

    chos::enter::EnterReport report;
    report.user_name = user; // until enter() resolves it (a refusal before: the PAM user)
    report.uid = *uid;
    auto entered = chos::enter::enter(request, report);
    // What the user is told: a PAM message now, and a line of CHOS_NOTE (set_note).
    std::string told;
    const auto tell = [pamh, &told](const std::string& line) {
        pam_info(pamh, "%s", line.c_str());
        told += (told.empty() ? "" : "\n") + line;
    };
    if (!report.user_file_note.empty()) {
        // Why ~/.chos was ignored (never its content: docs/threat-model.md, class I:
        // user files).
        pam_syslog(pamh, LOG_NOTICE, "user=%s: %s", quoted_user.c_str(), report.user_file_note.c_str());
        tell("chos: " + report.user_file_note);
    }
    if (!entered) {
        const std::string line = entered.error().str();
        audit(pamh, LOG_ERR, report, "refused: " + line);
        pam_error(pamh, "chos: %s", line.c_str());
        return PAM_SESSION_ERR;
    }
    if (report.fell_back_from) {
        pam_syslog(pamh, LOG_NOTICE, "user=%s: %s: using the default environment '%s'", quoted_user.c_str(),
                   report.fell_back_from->c_str(), entered->environment.c_str());
        tell("chos: " + *report.fell_back_from + ": using the default environment '" + entered->environment + "'");
    }
    int rc = apply_environment(pamh, pam_env, entered->envp);
    if (rc == PAM_SUCCESS)
        rc = set_note(pamh, told);
    if (rc != PAM_SUCCESS) {
        pam_syslog(pamh, LOG_ERR, "cannot set the session's environment: %s", pam_strerror(pamh, rc));
        return PAM_SESSION_ERR;
    }
    audit(pamh, LOG_NOTICE, report, "entered");
    if (args->debug)
        for (const auto& line : chos::enter::timing_lines(report))
            pam_syslog(pamh, LOG_DEBUG, "%s", line.c_str());
    return PAM_SUCCESS;
}

} // namespace

#define CHOS_PAM_EXPORT extern "C" __attribute__((visibility("default")))

CHOS_PAM_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv)
{
    try {
        return open_session(pamh, argc, argv);
    } catch (...) {
        // bad_alloc and friends: refuse rather than let sshd die mid-login.
        pam_syslog(pamh, LOG_CRIT, "internal error: session refused");
        return PAM_SESSION_ERR;
    }
}

// Nothing to undo: the registration is one cgroup per environment (no per-login state,
// P5) and dies with the session's processes; the chroot dies with the process.
CHOS_PAM_EXPORT int pam_sm_close_session(pam_handle_t* /*pamh*/, int /*flags*/, int /*argc*/, const char** /*argv*/)
{
    return PAM_SUCCESS;
}
