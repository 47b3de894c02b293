// pam_chos: a login lands in the user's environment (pam_chos(8)).
//
// A session module only. open_session resolves the PAM user, then hands everything
// else -- choice, allow-list, registration, chroot, the child's environment -- to
// libchos_enter (DESIGN.md: a second copy of that logic in an entry point is a bug).
// The process that calls us (sshd's privileged session process) stays root; sshd
// drops privileges and changes directory itself, inside the tree, after we return.
//
// No exception leaves this file: a PAM module runs inside someone else's process.
#include "config/names.hpp"
#include "enter/enter.hpp"

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

struct Arguments {
    std::optional<bool> fail_to_default; // unset: the config's fail_to_default
    std::optional<std::string> user_file; // unset: the config's user_file
    bool root = false;                    // switch root's sessions too
    bool debug = false;                   // per-phase timings and the choice to syslog
};

std::optional<bool> parse_bool(std::string_view value)
{
    if (value == "yes" || value == "true" || value == "1")
        return true;
    if (value == "no" || value == "false" || value == "0")
        return false;
    return std::nullopt;
}

// Module arguments come from the admin's pam.d file. A malformed value is an error
// (the session is refused: a typo in fail_to_default=no must not silently let
// logins through), an unknown argument is logged and ignored, as other modules do.
std::optional<std::string> parse_arguments(pam_handle_t* pamh, int argc, const char** argv, Arguments& args)
{
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i] ? argv[i] : "";
        const auto eq = arg.find('=');
        const std::string_view key = arg.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view{} : arg.substr(eq + 1);
        const bool has_value = eq != std::string_view::npos;
        if (key == "debug" && !has_value) {
            args.debug = true;
        } else if ((key == "fail_to_default" || key == "root") && has_value) {
            auto b = parse_bool(value);
            if (!b)
                return "module argument '" + chos::config::quote_for_message(arg) + "': expected yes or no";
            if (key == "root")
                args.root = *b;
            else
                args.fail_to_default = *b;
        } else if (key == "user_file" && has_value) {
            // A file name in the home directory, never a path (the library joins it to
            // the home directory and reads it as the user).
            if (value.find('/') != std::string_view::npos || value == "." || value == ".." || value.size() > 255)
                return "module argument '" + chos::config::quote_for_message(arg) +
                       "': expected a file name without '/'";
            args.user_file = std::string(value);
        } else {
            pam_syslog(pamh, LOG_ERR, "unknown module argument '%s': ignored",
                       chos::config::quote_for_message(arg).c_str());
        }
    }
    return std::nullopt;
}

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

    bool contains(std::string_view entry) const
    {
        for (char** e = list_; e && *e; ++e)
            if (entry == *e)
                return true;
        return false;
    }
    std::vector<std::string> names() const
    {
        std::vector<std::string> out;
        for (char** e = list_; e && *e; ++e) {
            std::string_view entry(*e);
            auto eq = entry.find('=');
            if (eq != std::string_view::npos && eq > 0)
                out.emplace_back(entry.substr(0, eq));
        }
        return out;
    }

private:
    char** list_;
};

// The PAM environment becomes what the library computed for the child: CHOS=NAME,
// the config's set/unset/keep rules, PATH reaching /.chos/bin. sshd copies the PAM
// environment into the session after its own defaults.
int apply_environment(pam_handle_t* pamh, const PamEnvironment& before, const std::vector<std::string>& envp,
                      const std::string& environment)
{
    const std::string chos = "CHOS=" + environment;
    if (int rc = pam_putenv(pamh, chos.c_str()); rc != PAM_SUCCESS)
        return rc;
    for (const auto& entry : envp) {
        if (entry == chos || before.contains(entry))
            continue;
        if (int rc = pam_putenv(pamh, entry.c_str()); rc != PAM_SUCCESS)
            return rc;
    }
    // Removed by the rules (unset, keep): "NAME" without '=' deletes it.
    for (const auto& name : before.names()) {
        const bool kept = std::any_of(envp.begin(), envp.end(), [&](const std::string& e) {
            return e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=';
        });
        if (!kept)
            (void)pam_putenv(pamh, name.c_str());
    }
    return PAM_SUCCESS;
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
    Arguments args;
    if (auto bad = parse_arguments(pamh, argc, argv, args)) {
        pam_syslog(pamh, LOG_ERR, "%s", bad->c_str());
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
    if (*uid == 0 && !args.root) {
        if (args.debug)
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
    request.fail_to_default = args.fail_to_default;
    request.user_file = args.user_file;
    // Connect the syslog socket while we see the host's /dev/log: every line below is
    // written after the chroot, where /dev/log would be the tree's.
    request.on_host_view = [] { ::openlog(nullptr, LOG_NDELAY, LOG_AUTHPRIV); };

    chos::enter::EnterReport report;
    auto entered = chos::enter::enter(request, report);
    if (!report.user_file_note.empty()) {
        // Why ~/.chos was ignored (never its content: SECURITY.md class I).
        pam_syslog(pamh, LOG_NOTICE, "user=%s: %s", quoted_user.c_str(), report.user_file_note.c_str());
        pam_info(pamh, "chos: %s", report.user_file_note.c_str());
    }
    if (!entered) {
        const std::string line = entered.error().str();
        pam_syslog(pamh, LOG_ERR, "user=%s uid=%ld env=%s result=refused: %s", quoted_user.c_str(),
                   static_cast<long>(*uid), report.environment.empty() ? "-" : report.environment.c_str(),
                   line.c_str());
        pam_error(pamh, "chos: %s", line.c_str());
        return PAM_SESSION_ERR;
    }
    if (report.fell_back_from) {
        pam_syslog(pamh, LOG_NOTICE, "user=%s: %s: using the default environment '%s'", quoted_user.c_str(),
                   report.fell_back_from->c_str(), entered->environment.c_str());
        pam_info(pamh, "chos: %s: using the default environment '%s'", report.fell_back_from->c_str(),
                 entered->environment.c_str());
    }
    if (int rc = apply_environment(pamh, pam_env, entered->envp, entered->environment); rc != PAM_SUCCESS) {
        pam_syslog(pamh, LOG_ERR, "cannot set the session's environment: %s", pam_strerror(pamh, rc));
        return PAM_SESSION_ERR;
    }
    pam_syslog(pamh, LOG_NOTICE, "user=%s uid=%ld env=%s result=entered", quoted_user.c_str(),
               static_cast<long>(*uid), entered->environment.c_str());
    if (args.debug) {
        for (int p = 0; p < static_cast<int>(chos::enter::Phase::count); ++p)
            pam_syslog(pamh, LOG_DEBUG, "phase %s: %.3f ms", chos::enter::to_string(static_cast<chos::enter::Phase>(p)),
                       static_cast<double>(report.phase_ns[static_cast<std::size_t>(p)]) / 1e6);
    }
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
