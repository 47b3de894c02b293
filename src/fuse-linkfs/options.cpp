#include "fuse-linkfs/options.hpp"

#include "chos_build_config.hpp"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace chos::linkfs {

ParsedOptions parse_options(int argc, char** argv)
{
    ParsedOptions parsed;
    Options& o = parsed.options;
    o.config_path = CHOS_CONFIG_PATH;

    po::options_description visible("options");
    visible.add_options()
        ("help,h", "show this help")
        ("version", "show the version")
        ("foreground,f", po::bool_switch(&o.foreground), "stay in the foreground, log to stderr")
        ("config,c", po::value(&o.config_path), "configuration file (default " CHOS_CONFIG_PATH ")")
        ("debug,d", po::bool_switch(&o.debug), "log every request");
    po::options_description all;
    all.add(visible).add_options()("mount-point", po::value(&o.mount_point));
    po::positional_options_description positional;
    positional.add("mount-point", 1);

    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
        if (vm.count("help")) {
            std::cout << "usage: chos-linkfs [--foreground] [--config FILE] [--debug] [MOUNTPOINT]\n"
                         "Serve the per-process CHOS link at MOUNTPOINT (default <tree>/.chos/fs).\n\n"
                      << visible;
            parsed.exit_status = 0;
        } else if (vm.count("version")) {
            std::cout << "chos-linkfs " CHOS_VERSION "\n";
            parsed.exit_status = 0;
        }
    } catch (const po::error& e) {
        std::cerr << "chos-linkfs: " << e.what() << " (see 'chos-linkfs --help')\n";
        parsed.exit_status = 1;
    }
    return parsed;
}

} // namespace chos::linkfs
