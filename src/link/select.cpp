// Which backend serves the link (see backend.hpp): the one place that names them all.
#include "link/backend.hpp"

#include "link/kmod_proc.hpp"

namespace chos::link {

namespace {

// `backend:`, or for `auto` the module when `module_ready`, else fuse.
const Backend& pick(const config::Config& config, bool module_ready)
{
    switch (config.backend) {
    case config::Backend::fuse:
        return fuse_backend();
    case config::Backend::kmod:
        return kmod_backend();
    case config::Backend::namespace_:
        return namespace_backend();
    case config::Backend::automatic:
        break;
    }
    return module_ready ? kmod_backend() : fuse_backend();
}

} // namespace

const Backend& for_setup(const config::Config& config)
{
    return pick(config, config.backend == config::Backend::automatic && kmod::loaded());
}

const Backend& in_use(const config::Config& config)
{
    // The module's file system is mounted on /proc/chos only by a kmod chos-setup.
    return pick(config, config.backend == config::Backend::automatic && kmod::mounted());
}

} // namespace chos::link
