// chos-setup: check, import, build, reload and tear down the CHOS tree (chos-setup(8)).
#include "chos_build_config.hpp"
#include "config/legacy.hpp"
#include "config/yaml_config.hpp"
#include "setup/check.hpp"
#include "setup/commands.hpp"
#include "setup/snapshot.hpp"

#include <boost/program_options.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace po = boost::program_options;

namespace {

constexpr const char* usage_text =
    "usage: chos-setup [--config FILE] COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  check            validate the configuration and the trees it names (exit 1 on any error)\n"
    "  import-legacy    print the chos.yaml equivalent of /etc/chos and /etc/sysconfig/chos\n"
    "  start            build the tree, mount the registry, start chos-linkfs\n"
    "  reload           apply a changed configuration to a running tree\n"
    "  stop             tear everything down (refused while processes are inside, unless --force)\n"
    "  status           environments, mounts, daemon health and processes per environment\n";

int fail(const std::string& message)
{
    std::cerr << "chos-setup: " << message << "\n";
    return 1;
}

std::optional<std::string> read_plain_file(const std::string& path, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read '" + path + "': " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int run_check(const std::string& config_path, bool syntax_only)
{
    chos::config::Config config;
    try {
        // --syntax-only reads any file (an admin's draft); a full check holds the file
        // to the launcher's rules: root-owned, not writable by others, no links.
        if (syntax_only) {
            std::string error;
            auto text = read_plain_file(config_path, error);
            if (!text)
                return fail(error);
            config = chos::config::parse_config(*text, config_path);
        } else {
            config = chos::config::load_config(config_path);
        }
    } catch (const chos::config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            std::cerr << d.str() << "\n";
        return 1;
    }
    if (!syntax_only) {
        auto report = chos::setup::check_system(config);
        for (const auto& d : report.warnings)
            std::cerr << d.str() << " (warning)\n";
        for (const auto& d : report.errors)
            std::cerr << d.str() << "\n";
        if (!report.errors.empty())
            return 1;
    }
    std::cout << chos::setup::summary(config);
    return 0;
}

int run_import(const std::string& chos_path, const std::string& sysconfig_path, bool chos_given, bool sys_given)
{
    std::string error;
    std::optional<std::string> chos_text, sys_text;
    if (::access(chos_path.c_str(), F_OK) == 0 || chos_given) {
        if (!(chos_text = read_plain_file(chos_path, error)))
            return fail(error);
    }
    if (::access(sysconfig_path.c_str(), F_OK) == 0 || sys_given) {
        if (!(sys_text = read_plain_file(sysconfig_path, error)))
            return fail(error);
    }
    if (!chos_text && !sys_text)
        return fail("nothing to import: neither '" + chos_path + "' nor '" + sysconfig_path + "' exists");
    auto result = chos::config::import_legacy(chos_text, chos_path, sys_text, sysconfig_path);
    for (const auto& w : result.warnings)
        std::cerr << "chos-setup: " << w << "\n";
    std::cout << result.yaml;
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::string config_path = CHOS_CONFIG_PATH;
    std::string command;
    std::string chos_path = "/etc/chos", sysconfig_path = "/etc/sysconfig/chos";
    chos::setup::Options options;
    bool syntax_only = false;

    po::options_description visible("options");
    visible.add_options()
        ("help,h", "show this help")
        ("version", "show the version")
        ("config,c", po::value(&config_path), "configuration file (default " CHOS_CONFIG_PATH ")")
        ("syntax-only", po::bool_switch(&syntax_only), "check: only the file's syntax and rules, not the system")
        ("chos", po::value(&chos_path), "import-legacy: the original /etc/chos")
        ("sysconfig", po::value(&sysconfig_path), "import-legacy: the original /etc/sysconfig/chos")
        ("force,f", po::bool_switch(&options.force), "stop: even while processes are registered")
        ("verbose,v", po::bool_switch(&options.verbose), "say what is done")
        ("linkfs", po::value(&options.linkfs_path), "chos-linkfs binary to start (default " CHOS_SBINDIR "/chos-linkfs)")
        ("launchers", po::value(&options.launcher_dir), "directory of the setuid chos and chos-run bound into the tree (default " CHOS_BINDIR ")");
    po::options_description all;
    all.add(visible).add_options()("command", po::value(&command));
    po::positional_options_description positional;
    positional.add("command", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return fail(std::string(e.what()) + " (see 'chos-setup --help')");
    }
    if (vm.count("help")) {
        std::cout << usage_text << "\n" << visible;
        return 0;
    }
    if (vm.count("version")) {
        std::cout << "chos-setup " CHOS_VERSION "\n";
        return 0;
    }
    // "etc/chos.yaml" from a source checkout is fine to name; the trust checks
    // walk an absolute path.
    if (!config_path.empty() && config_path.front() != '/')
        config_path = std::filesystem::absolute(config_path).lexically_normal().string();
    if (command == "import-legacy")
        return run_import(chos_path, sysconfig_path, vm.count("chos") > 0, vm.count("sysconfig") > 0);
    if (command == "check")
        return run_check(config_path, syntax_only);
    if (command != "start" && command != "stop" && command != "reload" && command != "status") {
        if (command.empty())
            return fail("no command given (see 'chos-setup --help')");
        return fail("unknown command: '" + command + "' (see 'chos-setup --help')");
    }

    chos::config::Config config;
    std::string text;
    try {
        text = chos::config::read_trusted_file(config_path, {});
        config = chos::config::parse_config(text, config_path);
    } catch (const chos::config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            std::cerr << d.str() << "\n";
        return 1;
    }
    if (::geteuid() != 0)
        return fail(command + ": must be run as root");
    if (command == "status")
        return chos::setup::status(config, options);
    int status = 0;
    chos::Result<> snapshot;
    if (command == "stop") {
        status = chos::setup::stop(config, options);
        if (status == 0)
            snapshot = chos::setup::withdraw_snapshot(config_path);
    } else {
        status = command == "start" ? chos::setup::start(config, options) : chos::setup::reload(config, options);
        if (status == 0)
            snapshot = chos::setup::publish_snapshot(config_path, text, config);
    }
    // The snapshot only saves launches a parse: without it they read chos.yaml.
    if (!snapshot)
        std::cerr << "chos-setup: warning: configuration snapshot: " << snapshot.error().str()
                  << " (launches will parse the configuration)\n";
    return status;
}
