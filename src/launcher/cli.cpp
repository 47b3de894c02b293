// Command line of chos and chos-run (Boost.Program_options); every exception of the
// CLI layer is caught here, once. The privileged work is libchos_enter's, and so are
// the audit line and the timings this file writes (enter/audit.hpp).
#include "launcher/cli.hpp"

#include "chos_build_config.hpp"
#include "config/names.hpp"
#include "enter/audit.hpp"
#include "enter/enter.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <syslog.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace chos::launcher {

namespace po = boost::program_options;

namespace {

struct Options {
    std::optional<std::string> environment;
    bool debug = false;
    bool list = false;
    bool current = false;
    bool version = false;
    bool help = false;
    std::vector<std::string> command;
    std::optional<std::string> host_command; // run as /.chos/bin/<name>
};

const char* program_name(Program program)
{
    return program == Program::chos ? "chos" : "chos-run";
}

po::options_description describe(Program program)
{
    po::options_description desc("Options");
    desc.add_options()
        ("environment,o", po::value<std::string>(), "enter environment NAME (else $CHOS, ~/.chos, the default)")
        ("list", "list the environments you may use")
        ("debug", "print per-phase timings to stderr")
        ("version", "print the version and the link backend in use")
        ("help,h", "print this help");
    if (program == Program::chos)
        desc.add_options()("current", "print the environment this shell is in");
    return desc;
}

// Options end at "--" or at the first word that is not an option: the command's own
// options ("chos-run -o a ls -l") are never ours.
Options parse(Program program, int argc, char** argv)
{
    std::vector<std::string> ours;
    Options opts;
    int i = 1;
    for (; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-')
            break;
        ours.push_back(arg);
        if ((arg == "-o" || arg == "--environment") && i + 1 < argc)
            ours.push_back(argv[++i]);
    }
    for (; i < argc; ++i)
        opts.command.emplace_back(argv[i]);

    po::variables_map vm;
    po::store(po::command_line_parser(ours).options(describe(program))
                  .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
                  .run(),
              vm);
    po::notify(vm);
    if (vm.count("environment"))
        opts.environment = vm["environment"].as<std::string>();
    opts.debug = vm.count("debug") > 0;
    opts.list = vm.count("list") > 0;
    opts.current = vm.count("current") > 0;
    opts.version = vm.count("version") > 0;
    opts.help = vm.count("help") > 0;
    return opts;
}

void usage(Program program)
{
    if (program == Program::chos)
        std::cout << "usage: chos [-o NAME] [--debug] [--] [COMMAND [ARGS...]]\n"
                     "       chos --list | --current | --version | --help\n"
                     "Without COMMAND, starts your login shell in the environment.\n";
    else
        std::cout << "usage: chos-run [-o NAME] [--debug] [--] COMMAND [ARGS...]\n"
                     "       chos-run --list | --version | --help\n";
    std::cout << describe(program) << "See chos(1), chos-run(1), chos.yaml(5).\n";
}

int fail(const std::string& line)
{
    std::fprintf(stderr, "chos: %s\n", line.c_str());
    return enter::exit_launcher_failure;
}

void audit(const enter::EnterReport& report, const std::string& result)
{
    const std::string line = enter::audit_line(report, result, {{"cmd", report.command}});
    ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line.c_str());
}

void print_timings(const enter::EnterReport& report)
{
    for (const auto& line : enter::timing_lines(report))
        std::fprintf(stderr, "chos: debug: %s\n", line.c_str());
}

int list_or_current(Program program, const Options& opts, int argc)
{
    auto view = enter::overview(argc, environ);
    if (opts.version) {
        // The version never needs the configuration; only the backend does.
        std::printf("%s %s (backend: %s)\n", program_name(program), CHOS_VERSION,
                    view ? view->backend.c_str() : "unknown");
        if (!view)
            std::fprintf(stderr, "%s: the backend is unknown: %s\n", program_name(program), view.error().str().c_str());
        return 0;
    }
    if (!view)
        return fail(view.error().str());
    if (opts.current) {
        if (view->current.empty())
            return fail(std::string("not in an environment (and no environment of ") + CHOS_CONFIG_PATH +
                        " is the host's)");
        std::printf("%s\n", view->current.c_str());
        return 0;
    }
    for (const auto& env : view->environments) {
        std::string notes = env.is_default ? " (default)" : "";
        if (env.name == view->chosen && !env.current && view->chosen_from != "the configured default")
            notes += " (chosen by " + view->chosen_from + ")";
        std::printf("%s %-16s %s%s\n", env.current ? "*" : " ", env.name.c_str(), env.description.c_str(),
                    notes.c_str());
    }
    return 0;
}

int launch(Program program, const Options& opts, int argc)
{
    if (program == Program::chos_run && opts.command.empty())
        return fail("no command given (see 'chos-run --help')");
    enter::EnterRequest request;
    request.entry = enter::EntryPoint::launcher;
    request.option = opts.environment;
    request.argc = argc;
    request.caller_env = environ;
    request.command = opts.command;
    request.host_command = opts.host_command;
    // Syslog is opened on the host's /dev/log only: a refusal before the re-root (not
    // setuid, argc 0) is not logged -- it never ran privileged code of consequence.
    bool host_view = false;
    request.on_host_view = [&host_view] {
        ::openlog("chos", LOG_NDELAY, LOG_AUTHPRIV);
        host_view = true;
    };
    const bool debug = opts.debug;
    request.before_exec = [debug](const enter::EnterReport& report) {
        if (!report.user_file_note.empty())
            std::fprintf(stderr, "chos: %s\n", report.user_file_note.c_str());
        if (report.fell_back_from)
            std::fprintf(stderr, "chos: %s: using the default '%s'\n", report.fell_back_from->c_str(),
                         report.environment.c_str());
        audit(report, "ok");
        if (debug)
            print_timings(report);
        std::fflush(stderr);
    };
    enter::EnterReport report;
    report.uid = ::getuid(); // until the user is resolved (a refusal before: the real uid)
    if (!opts.command.empty()) {
        const auto& cmd = opts.command.front();
        report.command = cmd.substr(cmd.rfind('/') == std::string::npos ? 0 : cmd.rfind('/') + 1);
    }
    auto entered = enter::enter(request, report);
    // Only failures return: exec replaced us otherwise.
    const Error& e = entered ? Error{"internal error", "", 0, "enter returned without exec"} : entered.error();
    std::string line = e.str();
    if (report.exit_status != enter::exit_launcher_failure) {
        line = "cannot run '" + config::quote_for_message(e.argument) + "': " +
               (e.reason.empty() ? std::strerror(e.err) : e.reason);
        audit(report, "failed: " + line);
    } else if (host_view) {
        audit(report, "refused: " + line);
    }
    if (debug)
        print_timings(report);
    std::fprintf(stderr, "chos: %s\n", line.c_str());
    return report.exit_status;
}

} // namespace

int run(Program program, int argc, char** argv)
{
    if (argc < 1 || argv == nullptr || argv[0] == nullptr)
        return fail("refusing to run: argc is 0");
    // Run by another name: a host command (/.chos/bin/<name> links to chos-run;
    // host_commands in chos.yaml(5)). Every argument is the program's own. (An empty
    // argv[0] is what Linux gives an execve with argc 0: refused below, as argc 0.)
    const std::string name = std::filesystem::path(argv[0]).filename();
    if (!name.empty() && name != "chos" && name != "chos-run") {
        Options opts;
        opts.host_command = name;
        opts.command.assign(argv, argv + argc);
        opts.command.front() = name;
        try {
            return launch(program, opts, argc);
        } catch (const std::exception& e) {
            return fail(std::string("internal error: ") + e.what());
        }
    }
    Options opts;
    try {
        opts = parse(program, argc, argv);
    } catch (const std::exception& e) {
        return fail(std::string("invalid arguments: ") + e.what() + " (see '" + program_name(program) + " --help')");
    }
    if (opts.help) {
        usage(program);
        return 0;
    }
    if (opts.version && ::geteuid() != 0) {
        std::printf("%s %s (backend: unknown: not running as root)\n", program_name(program), CHOS_VERSION);
        return 0;
    }
    try {
        if (opts.list || opts.current || opts.version)
            return list_or_current(program, opts, argc);
        return launch(program, opts, argc);
    } catch (const std::exception& e) {
        return fail(std::string("internal error: ") + e.what());
    }
}

} // namespace chos::launcher
