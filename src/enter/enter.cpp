// The ordered list of steps of docs/architecture.md "Entering" -- the body of enter()
// is that list, each step a call (as nsjail's containProc is). What differs between
// link backends is behind link::Backend, called at its four points.
#include "enter/enter.hpp"

#include "chos_build_config.hpp"
#include "config/choice.hpp"
#include "config/names.hpp"
#include "config/snapshot.hpp"
#include "config/yaml_config.hpp"
#include "enter/steps.hpp"
#include "link/backend.hpp"
#include "registry/registry.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <unistd.h>

namespace chos::enter {

const char* to_string(Phase phase)
{
    switch (phase) {
    case Phase::config: return "config";
    case Phase::registration: return "registration";
    case Phase::chroot: return "chroot";
    case Phase::drop: return "drop";
    case Phase::exec: return "exec";
    case Phase::count: break;
    }
    return "?";
}

namespace {

std::int64_t now_ns()
{
    timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Times one phase into the report.
class PhaseTimer {
public:
    PhaseTimer(EnterReport& report, Phase phase) : report_(report), phase_(phase), start_(now_ns()) {}
    ~PhaseTimer() { report_.phase_ns[static_cast<int>(phase_)] += now_ns() - start_; }
    PhaseTimer(const PhaseTimer&) = delete;
    PhaseTimer& operator=(const PhaseTimer&) = delete;

private:
    EnterReport& report_;
    Phase phase_;
    std::int64_t start_;
};

Result<> require_root()
{
    if (::geteuid() != 0)
        return error("not running as root", "",
                     "is chos-run installed setuid root? (no_new_privs ignores the setuid bit)");
    return {};
}

// load_config() throws; the privileged path returns values. A caller in a chroot of
// its own is told where the file was looked for: in the root of the mount namespace
// (CHOS is set up per mount namespace, never per chroot: docs/architecture.md "Entering").
Result<config::Config> read_config(bool caller_chrooted, bool* from_snapshot = nullptr)
{
    const std::string where = caller_chrooted ? " (read in the host view: the root of this mount namespace, "
                                                "not the caller's chroot; CHOS is set up per mount namespace)"
                                              : "";
    try {
        return config::load_config_via_snapshot(CHOS_CONFIG_PATH, {}, from_snapshot);
    } catch (const config::ConfigError& e) {
        std::string first = e.diagnostics().empty() ? e.what() : e.diagnostics().front().str();
        return error("invalid configuration", "", first + where);
    } catch (const std::exception& e) {
        return error("cannot read the configuration", CHOS_CONFIG_PATH, e.what() + where);
    }
}

std::optional<std::string> caller_variable(char** env, std::string_view name)
{
    for (char** e = env; e && *e; ++e) {
        std::string_view entry(*e);
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return std::string(entry.substr(name.size() + 1));
    }
    return std::nullopt;
}

std::string basename_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The caller's registration ("" when none): we have not registered, so ours is the
// caller's.
std::string current_environment(const config::Config& config)
{
    if (auto registry = registry::Registry::open_recorded(config)) {
        if (auto member = registry->membership(::getpid()); member && member->registered)
            return member->environment;
    }
    return "";
}

// Step 4 and 5: which environment, and may this user use it.
Result<config::Choice> choose_environment(const EnterRequest& request, const config::Config& config,
                                          const Identity& who, EnterReport& report)
{
    config::Request choice_request;
    choice_request.option = request.option;
    choice_request.option_name = request.option_name;
    choice_request.variable = caller_variable(request.caller_env, "CHOS");
    choice_request.fall_back_to_default = request.entry != EntryPoint::launcher &&
                                          request.fail_to_default.value_or(config.fail_to_default);
    // ~/.chos costs a fork: only when neither -o nor $CHOS decides.
    const std::string& user_file = request.user_file ? *request.user_file : config.user_file;
    if (!user_file.empty() && !choice_request.option &&
        (!choice_request.variable || choice_request.variable->empty())) {
        auto file = read_user_file(who, user_file);
        choice_request.user_file = file.text;
        if (!file.text && file.absent_reason != "does not exist")
            report.user_file_note = "~/" + user_file + " " + file.absent_reason + ": ignored";
    }
    auto choice = config::choose(config, who.user, choice_request, group_resolver(who.access));
    if (!choice)
        return error(choice.error().message(), "", "");
    report.fell_back_from = choice->fell_back_from;
    return *choice;
}

} // namespace

Result<Entered> enter(const EnterRequest& request, EnterReport& report)
{
    report.exit_status = exit_launcher_failure;
    const bool launcher = request.entry == EntryPoint::launcher;
    // 1. Sanitize (the launcher only: PAM and SPANK run inside sshd and slurmstepd).
    Result<CallerState> caller = launcher ? sanitize(request.argc) : Result<CallerState>(CallerState{});
    if (!caller)
        return std::unexpected(caller.error());
    if (auto root = require_root(); !root)
        return std::unexpected(root.error());
    if (!launcher && !request.user)
        return error("internal error", "", "a PAM or SPANK entry must name the user");
    // Re-root to the host's view before reading anything: a caller inside an
    // environment must never have us read its tree's files as root (CVE-2025-32463).
    caller->cwd = remember_cwd();
    caller->root = remember_root();
    auto rerooted = reroot_to_host(caller->root);
    if (!rerooted)
        return std::unexpected(rerooted.error());
    // Log lines carry the host's time zone: read it now. After the chroot, syslog()
    // would read the environment's /etc/localtime, through the link.
    ::tzset();
    if (request.on_host_view)
        request.on_host_view();

    // 2. The configuration.
    Result<config::Config> config;
    {
        PhaseTimer t(report, Phase::config);
        config = read_config(*rerooted, &report.config_from_snapshot);
    }
    if (!config)
        return std::unexpected(config.error());
    const link::Backend& link = link::in_use(*config);
    if (auto host = link.host_view(*config); !host)
        return std::unexpected(host.error());

    // 3. The user and groups (host NSS, before any chroot).
    auto who = resolve_identity(launcher ? std::nullopt : request.user);
    if (!who)
        return std::unexpected(who.error());
    report.user_name = who->user.name;
    report.uid = who->user.uid;

    // 4-7. A host command (host_commands, host_command.cpp) skips them: the host's
    // program runs from the host's view, the process's registration and $CHOS unchanged.
    const config::Environment* env = nullptr;
    std::optional<HostCommand> host;
    if (request.host_command) {
        auto found = host_command(*config, *request.host_command, *caller);
        if (!found)
            return std::unexpected(found.error());
        host = std::move(*found);
        report.environment = current_environment(*config);
    } else {
        // 4, 5. Choose, check the allow-list.
        auto chosen = choose_environment(request, *config, *who, report);
        if (!chosen)
            return std::unexpected(chosen.error());
        env = chosen->environment;
        report.environment = env->name;

        // 6. Register.
        {
            PhaseTimer t(report, Phase::registration);
            if (auto registered = register_process(*config, *env, link); !registered)
                return std::unexpected(registered.error());
        }

        // 7. chroot.
        {
            PhaseTimer t(report, Phase::chroot);
            if (auto ready = link.before_chroot(*config, *env); !ready)
                return std::unexpected(ready.error());
            if (auto rooted = enter_root(*config, *env); !rooted)
                return std::unexpected(rooted.error());
        }
    }

    // 8. Drop privileges, verified; then the working directory with the user's rights.
    // (PAM/SPANK: sshd and slurmstepd drop and change directory themselves.)
    if (launcher) {
        PhaseTimer t(report, Phase::drop);
        if (auto dropped = drop_privileges(who->user); !dropped)
            return std::unexpected(dropped.error());
        (void)enter_working_directory(host ? host_working_directory(*host) : caller->cwd, who->home);
    }

    // 9. The child's environment. The "exec" phase runs from here to execve().
    const std::int64_t exec_start = now_ns();
    Entered entered{report.environment, host ? caller_environment(request.caller_env)
                                             : child_environment(request.caller_env, *config, *env)};
    if (!request.exec)
        return entered;

    // 10. exec.
    std::vector<std::string> argv = request.command;
    std::string file;
    std::optional<std::string> search_path;
    if (host) {
        file = host->program;
        search_path = host->search_path;
    } else if (argv.empty()) {
        file = who->shell.empty() ? "/bin/sh" : who->shell;
        argv.push_back("-" + basename_of(file)); // a login shell, like the original's BASHLOGIN
    } else {
        file = argv.front();
    }
    report.command = basename_of(file);
    if (env) {
        if (auto persona = apply_personality(*env); !persona)
            return std::unexpected(persona.error());
    }
    restore_caller_state(*caller);
    report.phase_ns[static_cast<int>(Phase::exec)] = now_ns() - exec_start;
    if (request.before_exec)
        request.before_exec(report);
    Error failed = exec_command(file, argv, entered.envp, search_path);
    report.exit_status = failed.err == ENOENT || failed.err == ENOTDIR ? exit_not_found : exit_not_executable;
    return std::unexpected(failed);
}

Result<Overview> overview(int argc, char** caller_env)
{
    if (auto caller = sanitize(argc); !caller)
        return std::unexpected(caller.error());
    if (auto root = require_root(); !root)
        return std::unexpected(root.error());
    auto rerooted = reroot_to_host(remember_root());
    if (!rerooted)
        return std::unexpected(rerooted.error());
    auto config = read_config(*rerooted);
    if (!config)
        return std::unexpected(config.error());
    const link::Backend& link = link::in_use(*config);
    if (auto host = link.host_view(*config); !host)
        return std::unexpected(host.error());
    auto who = resolve_identity(std::nullopt);
    if (!who)
        return std::unexpected(who.error());

    Overview view;
    view.backend = std::string(link.name());
    view.current = current_environment(*config);
    if (view.current.empty()) {
        auto var = caller_variable(caller_env, "CHOS");
        if (var && config->find(*var))
            view.current = *var;
    }
    // Unregistered and no $CHOS: the caller runs in the host's userland.
    if (view.current.empty())
        for (const auto& env : config->environments)
            if (env.is_host()) {
                view.current = env.name;
                view.on_host = true;
                break;
            }
    // What a launch without -o would enter, and why ($CHOS, ~/.chos or the default).
    EnterRequest plain;
    plain.caller_env = caller_env;
    EnterReport ignored;
    if (auto chosen = choose_environment(plain, *config, *who, ignored); chosen && chosen->environment) {
        view.chosen = chosen->environment->name;
        view.chosen_from = std::string(config::to_string(chosen->source));
    }
    const config::GroupResolver groups = group_resolver(who->access);
    for (const auto& env : config->environments) {
        if (!config::is_allowed(env, who->user, groups))
            continue;
        if (env.hidden && env.name != view.current)
            continue; // not advertised; still usable by name, and shown while one is in it
        view.environments.push_back(
            {env.name, env.description, env.name == config->default_environment, env.name == view.current});
    }
    if (auto dropped = drop_privileges(who->user); !dropped)
        return std::unexpected(dropped.error());
    return view;
}

} // namespace chos::enter
