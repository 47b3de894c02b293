// spank_chos.so: Slurm's --chos=NAME (srun, sbatch, salloc). Each task of a job step
// chooses, checks, registers and chroots through libchos_enter -- the same sequence as
// chos-run and pam_chos (a second copy of that logic is a bug: docs/architecture.md
// "Entering"), with their argument parser, audit line and environment difference.
// This file is only the glue to Slurm's callbacks; see spank_chos(8).
//
// Where each step happens (Slurm 22.05, spank.h):
//   slurm_spank_init                  every context: register --chos (sbatch/salloc
//                                     accept an option only when registered here)
//   option callback                   srun/sbatch/salloc: refuse a malformed name at
//                                     submit time; slurmstepd: remember the value
//   slurm_spank_init_post_opt         srun/sbatch/salloc, as the user: refuse an
//                                     environment this host's configuration does not
//                                     allow them before the job is submitted, in
//                                     CHOS's one line first (submit_check.hpp)
//   slurm_spank_task_init_privileged  slurmstepd, in the forked task, root: enter()
//   slurm_spank_task_init             the same task, now the user: back to the job's
//                                     working directory, inside the environment
// No exception leaves a callback: Slurm is C.
#include "common/layout.hpp"
#include "config/names.hpp"
#include "enter/audit.hpp"
#include "enter/enter.hpp"
#include "enter/entry_args.hpp"
#include "enter/env_diff.hpp"
#include "enter/submit_check.hpp"

#include "chos_build_config.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <syslog.h>
#include <unistd.h>
#include <vector>

extern "C" {
#include <slurm/slurm.h>
#include <slurm/spank.h>
}

#define CHOS_EXPORT extern "C" __attribute__((visibility("default")))

// SPANK_PLUGIN(chos, 1), spelled out so that the symbols are exported from a library
// built with hidden visibility.
CHOS_EXPORT const char plugin_name[] = "chos";
CHOS_EXPORT const char plugin_type[] = "spank";
CHOS_EXPORT const unsigned int plugin_version = SLURM_VERSION_NUMBER;
CHOS_EXPORT const unsigned int spank_plugin_version = 1;

namespace {

// Per process: slurmstepd parses the option once, each task is a fork of it.
std::optional<std::string> g_option;        // --chos=NAME as given
std::optional<std::string> g_job_cwd;       // the task's cwd before the chroot
bool g_entered = false;                     // this task was chrooted into an environment

constexpr int spank_ok = 0;
constexpr int spank_fail = -1;

// User-visible lines are "chos: <what>". slurm_error() reaches srun's
// stderr for srun steps and the job's error file for batch jobs.
void report_error(const std::string& line) noexcept
{
    slurm_error("chos: %s", line.c_str());
}

int on_option(int /*val*/, const char* optarg, int /*remote*/) noexcept
{
    try {
        const std::string name = optarg ? optarg : "";
        // Only the syntax here: whether the environment exists and is allowed is the
        // node's decision (its /etc/chos.yaml), made in the task.
        if (auto problem = chos::config::environment_name_problem(name)) {
            report_error("--chos: environment name '" + chos::config::quote_for_message(name) + "' " + *problem +
                         " (see chos.yaml(5))");
            return spank_fail;
        }
        g_option = name;
        return spank_ok;
    } catch (...) {
        return spank_fail;
    }
}

char opt_name[] = "chos";
char opt_arginfo[] = "NAME";
char opt_usage[] = "Run the job's tasks in the CHOS environment NAME (see 'chos --list' and spank_chos(8))";
struct spank_option chos_option = {opt_name, opt_arginfo, opt_usage, 1, 0, on_option};

chos::Result<chos::enter::EntryArguments> plugin_arguments(int ac, char** av)
{
    std::vector<std::string_view> args;
    for (int i = 0; i < ac && av; ++i)
        args.emplace_back(av[i] ? av[i] : "");
    return chos::enter::parse_entry_arguments(chos::enter::EntryPoint::spank, args);
}

// The job's environment as slurmstepd will pass it to execve().
std::vector<std::string> job_environment(spank_t sp)
{
    char** env = nullptr;
    std::vector<std::string> copy;
    if (spank_get_item(sp, S_JOB_ENV, &env) == ESPANK_SUCCESS)
        for (char** e = env; e && *e; ++e)
            copy.emplace_back(*e);
    return copy;
}

// Make the job's environment what enter() computed (CHOS=NAME, the config's
// set/unset rules, /.chos/bin on PATH): the same child environment as chos-run's.
chos::Result<> apply_environment(spank_t sp, char** before, const std::vector<std::string>& after)
{
    const auto diff = chos::enter::diff_environment(before, after);
    for (const auto& name : diff.unset)
        if (spank_unsetenv(sp, name.c_str()) != ESPANK_SUCCESS)
            return chos::error("cannot unset a variable of the job", name, "spank_unsetenv failed");
    for (const auto& entry : diff.set) {
        const auto eq = entry.find('=');
        const std::string name = entry.substr(0, eq);
        if (spank_setenv(sp, name.c_str(), entry.c_str() + eq + 1, 1) != ESPANK_SUCCESS)
            return chos::error("cannot set a variable of the job", name, "spank_setenv failed");
    }
    return {};
}

// The batch script is a file in slurmd's spool on the host, named by an absolute
// path in argv[0]. After the chroot that path must still lead to it: either the
// admin binds SlurmdSpoolDir into the tree (`bind:` in chos.yaml), or the tree has the
// host root at /local (`local: true`) and the script is run as /local<path>.
chos::Result<> reach_batch_script(spank_t sp)
{
    int argc = 0;
    char** argv = nullptr;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc < 1 || !argv || !argv[0])
        return chos::error("cannot find the batch script", "", "no argv in the job step");
    const std::string script = argv[0];
    if (script.empty() || script[0] != '/' || ::access(script.c_str(), F_OK) == 0)
        return {};
    const std::string through_local = "/" + std::string(chos::layout::host_root) + script;
    if (::access(through_local.c_str(), F_OK) != 0)
        return chos::error("the batch script is not reachable inside the environment", script,
                           "bind SlurmdSpoolDir in chos.yaml or set 'local: true' (see spank_chos(8))");
    // argv is slurmstepd's, and execve() follows right after the task hooks in this
    // forked task: the copy is never freed, on purpose.
    char* copy = ::strdup(through_local.c_str());
    if (!copy)
        return chos::error("cannot rewrite the batch script path", script, "out of memory");
    argv[0] = copy;
    return {};
}

std::string step_name(uint32_t step)
{
    if (step == SLURM_BATCH_SCRIPT)
        return "batch";
    if (step == SLURM_INTERACTIVE_STEP)
        return "interactive";
    return std::to_string(step);
}

// One audit line per task (chos-audit(5)): slurmd's log, and syslog authpriv like
// chos-run's.
void audit(int priority, const chos::enter::EnterReport& report, uint32_t job, uint32_t step,
           const std::string& result)
{
    const std::string line =
        chos::enter::audit_line(report, result, {{"job", std::to_string(job)}, {"step", step_name(step)}});
    slurm_info("chos: %s", line.c_str());
    ::syslog(priority, "%s", line.c_str());
}

chos::Result<> enter_task(spank_t sp, const chos::enter::EntryArguments& args)
{
    uid_t uid = 0;
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS)
        return chos::error("cannot read the job's user", "", "spank_get_item(S_JOB_UID) failed");
    uint32_t step = 0;
    if (spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
        return chos::error("cannot read the job step", "", "spank_get_item(S_JOB_STEPID) failed");
    uint32_t job = 0;
    (void)spank_get_item(sp, S_JOB_ID, &job); // for the audit line only

    // slurmstepd changed into the job's working directory before forking the task;
    // enter() leaves us at / of the tree, so remember it for slurm_spank_task_init.
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) != nullptr && cwd[0] == '/')
        g_job_cwd = cwd;

    // The job's environment carries the submitter's $CHOS (srun and sbatch export
    // the submit environment unless --export says otherwise).
    std::vector<std::string> before = job_environment(sp);
    std::vector<char*> caller_env;
    for (auto& entry : before)
        caller_env.push_back(entry.data());
    caller_env.push_back(nullptr);

    chos::enter::EnterRequest request;
    request.entry = chos::enter::EntryPoint::spank;
    request.user = uid;
    request.exec = false;
    request.option = g_option;
    request.option_name = "--chos";
    request.caller_env = caller_env.data();
    request.fail_to_default = args.fail_to_default;
    request.user_file = args.user_file;
    // Connect the syslog socket while we see the host's /dev/log (never a tree's).
    request.on_host_view = [] { ::openlog("spank_chos", LOG_NDELAY | LOG_PID, LOG_AUTHPRIV); };
    chos::enter::EnterReport report;
    report.uid = uid; // until enter() resolves the user
    auto entered = chos::enter::enter(request, report);
    if (!entered) {
        audit(LOG_NOTICE, report, job, step, "refused: " + entered.error().str());
        return std::unexpected(entered.error());
    }
    g_entered = true;
    audit(LOG_INFO, report, job, step, "entered");
    if (args.debug)
        for (const auto& line : chos::enter::timing_lines(report))
            slurm_info("chos: debug: %s", line.c_str());
    // Once per step, not once per task: every task fell back alike (the refusal's
    // message quotes the refused name itself).
    uint32_t task = 0;
    if (report.fell_back_from &&
        (spank_get_item(sp, S_TASK_GLOBAL_ID, &task) != ESPANK_SUCCESS || task == 0))
        slurm_spank_log("chos: %s: using the default environment '%s'", report.fell_back_from->c_str(),
                        entered->environment.c_str());

    if (auto applied = apply_environment(sp, caller_env.data(), entered->envp); !applied)
        return applied;
    if (step == SLURM_BATCH_SCRIPT)
        return reach_batch_script(sp);
    return {};
}

} // namespace

CHOS_EXPORT int slurm_spank_init(spank_t sp, int ac, char** av)
{
    try {
        // Registered in every context: srun, sbatch and salloc (allocator) must accept
        // --chos, slurmstepd must receive its value. slurmd proper refuses; harmless.
        if (spank_context() != S_CTX_SLURMD && spank_context() != S_CTX_JOB_SCRIPT) {
            if (spank_option_register(sp, &chos_option) != ESPANK_SUCCESS) {
                report_error("cannot register the --chos option");
                return spank_fail;
            }
        }
        // A bad plugstack.conf line is loud everywhere, slurmd's start included.
        if (auto parsed = plugin_arguments(ac, av); !parsed) {
            report_error(parsed.error().str());
            return spank_fail;
        }
        return spank_ok;
    } catch (...) {
        return spank_fail;
    }
}

// srun (local), sbatch and salloc (allocator), after their options, before anything is
// submitted: the same refusal the node would give, at once, and only CHOS's line before
// Slurm's own. A host without a CHOS configuration (or submit_check=no) leaves it to the
// node.
CHOS_EXPORT int slurm_spank_init_post_opt(spank_t sp, int ac, char** av)
{
    try {
        if (spank_remote(sp) || !g_option)
            return spank_ok;
        if (spank_context() != S_CTX_LOCAL && spank_context() != S_CTX_ALLOCATOR)
            return spank_ok;
        auto parsed = plugin_arguments(ac, av);
        if (!parsed) {
            report_error(parsed.error().str());
            return spank_fail;
        }
        if (!parsed->submit_check)
            return spank_ok;
        if (auto refused = chos::enter::refusal_at_submit(*g_option, CHOS_CONFIG_PATH)) {
            report_error(*refused);
            return spank_fail;
        }
        return spank_ok;
    } catch (...) {
        return spank_ok; // the node decides
    }
}

CHOS_EXPORT int slurm_spank_task_init_privileged(spank_t sp, int ac, char** av)
{
    try {
        if (!spank_remote(sp))
            return spank_ok;
        auto parsed = plugin_arguments(ac, av);
        if (!parsed) {
            report_error(parsed.error().str());
            return spank_fail;
        }
        if (auto entered = enter_task(sp, *parsed); !entered) {
            // The task exits here: it never runs, in this environment or another.
            report_error(entered.error().str());
            return spank_fail;
        }
        return spank_ok;
    } catch (...) {
        report_error("internal error while entering the environment");
        return spank_fail;
    }
}

CHOS_EXPORT int slurm_spank_task_init(spank_t sp, int /*ac*/, char** /*av*/)
{
    try {
        if (!spank_remote(sp) || !g_entered)
            return spank_ok;
        // As the user now (slurmstepd dropped privileges): the job's directory seen from
        // inside the environment, or /tmp like slurmstepd itself when it is missing.
        if (g_job_cwd && ::chdir(g_job_cwd->c_str()) == 0)
            return spank_ok;
        const int err = errno;
        if (g_job_cwd)
            report_error("cannot enter the working directory inside the environment: '" +
                         chos::config::quote_for_message(*g_job_cwd) + "': " + std::strerror(err) +
                         ": going to /tmp instead");
        if (::chdir("/tmp") != 0 && ::chdir("/") != 0) {
            report_error("cannot enter any working directory inside the environment");
            return spank_fail;
        }
        return spank_ok;
    } catch (...) {
        return spank_fail;
    }
}
