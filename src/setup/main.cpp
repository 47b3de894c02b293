// chos-setup: check, import, build, reload and tear down the CHOS tree (chos-setup(8)).
// Options are parsed here, the configuration is read here, every command returns an
// Outcome, and print() writes it: the one place chos-setup prints.
#include "chos_build_config.hpp"
#include "config/yaml_config.hpp"
#include "setup/commands.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <vector>
#include <unistd.h>

namespace po = boost::program_options;

namespace {

constexpr const char* usage_text =
    "usage: chos-setup [--config FILE] COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  check            validate the configuration and the trees it names (exit 1 on any error)\n"
    "  import-legacy    print the chos.yaml equivalent of /etc/chos and /etc/sysconfig/chos\n"
    "  start            build the tree, mount the registry, serve the per-process link, start the mount guard\n"
    "  reload           apply a changed configuration to a running tree\n"
    "  stop             tear everything down (refused while processes are inside, unless --force)\n"
    "  status           environments, mounts, the link's health and processes per environment\n"
    "  image build NAME --from DIR | --suite SUITE [--format squashfs|erofs] OUT\n"
    "                   make an environment's image file, reproducibly\n";

using chos::setup::Outcome;

Outcome failed(const std::string& line)
{
    Outcome out;
    out.fail(line);
    return out;
}

// start | reload | stop | status: the configuration read as the launcher reads it
// (root-owned, no links), then the command.
Outcome tree_command(const std::string& command, const std::string& config_path,
                     const chos::setup::Options& options)
{
    chos::config::Config config;
    std::string text;
    try {
        text = chos::config::read_trusted_file(config_path, {});
        config = chos::config::parse_config(text, config_path);
    } catch (const chos::config::ConfigError& e) {
        Outcome out;
        for (const auto& d : e.diagnostics())
            out.diagnostics.push_back(d.str());
        out.status = 1;
        return out;
    }
    if (::geteuid() != 0)
        return failed(command + ": must be run as root");
    const chos::setup::Context context{config, config_path, std::move(text), options};
    if (command == "start")
        return chos::setup::start(context);
    if (command == "reload")
        return chos::setup::reload(context);
    if (command == "stop")
        return chos::setup::stop(context);
    return chos::setup::status(context);
}

// image build NAME OUT, with --from or --suite and --format.
Outcome image_command(const std::vector<std::string>& args, chos::setup::ImageRequest request,
                      const std::string& format)
{
    if (args.empty() || args.front() != "build")
        return failed("image: the one subcommand is 'build' (see 'chos-setup --help')");
    if (args.size() != 3)
        return failed("image build: usage: chos-setup image build NAME --from DIR | --suite SUITE "
                      "[--format squashfs|erofs] OUT");
    if (format == "squashfs")
        request.format = chos::setup::ImageFormat::squashfs;
    else if (format == "erofs")
        request.format = chos::setup::ImageFormat::erofs;
    else
        return failed("image build: unknown format: '" + format + "' (squashfs or erofs)");
    request.name = args[1];
    request.out = args[2];
    return chos::setup::image_build(request);
}

} // namespace

int main(int argc, char** argv)
{
    std::string config_path = CHOS_CONFIG_PATH;
    std::string command;
    std::string chos_path = "/etc/chos", sysconfig_path = "/etc/sysconfig/chos";
    chos::setup::Options options;
    bool syntax_only = false;
    std::vector<std::string> args;
    chos::setup::ImageRequest image;
    std::string image_format = "squashfs";

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
        ("guard", po::value(&options.guard_path), "chos-guard binary to start (default " CHOS_SBINDIR "/chos-guard)")
        ("launchers", po::value(&options.launcher_dir), "directory of the setuid chos and chos-run bound into the tree (default " CHOS_BINDIR ")")
        ("from", po::value(&image.from), "image build: the tree to make the image of")
        ("suite", po::value(&image.suite), "image build: a Debian suite, built with mmdebstrap (minbase)")
        ("include", po::value(&image.include), "image build: with --suite, more packages (PKG,PKG...)")
        ("mirror", po::value(&image.mirror), "image build: with --suite, the archive's URL (default: mmdebstrap's)")
        ("format", po::value(&image_format), "image build: squashfs (default) or erofs");
    po::options_description all;
    all.add(visible).add_options()("command", po::value(&command))("args", po::value(&args));
    po::positional_options_description positional;
    positional.add("command", 1).add("args", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return print(failed(std::string(e.what()) + " (see 'chos-setup --help')"), false);
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

    Outcome outcome;
    if (command != "image" && !args.empty())
        outcome = failed("unexpected argument: '" + args.front() + "' (see 'chos-setup --help')");
    else if (command == "image")
        outcome = image_command(args, image, image_format);
    else if (command == "import-legacy")
        outcome = chos::setup::import_legacy(chos_path, sysconfig_path, vm.count("chos") > 0, vm.count("sysconfig") > 0);
    else if (command == "check")
        outcome = chos::setup::check(config_path, syntax_only);
    else if (command == "start" || command == "stop" || command == "reload" || command == "status")
        outcome = tree_command(command, config_path, options);
    else if (command.empty())
        outcome = failed("no command given (see 'chos-setup --help')");
    else
        outcome = failed("unknown command: '" + command + "' (see 'chos-setup --help')");
    return print(outcome, options.verbose);
}
