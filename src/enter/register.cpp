// Step 6: record the caller's environment in the registry, with the link backend's
// steps around it (link/backend.hpp): before, make sure the link will answer the new
// process; after, make it answer with the new environment.
#include "enter/steps.hpp"

#include "registry/registry.hpp"

#include <unistd.h>

namespace chos::enter {

Result<> register_process(const config::Config& config, const config::Environment& env, const link::Backend& link)
{
    auto registry = registry::Registry::open_recorded(config);
    if (!registry)
        return std::unexpected(registry.error());
    const pid_t self = ::getpid();
    auto prior = link.before_register(config, *registry, self);
    if (!prior)
        return std::unexpected(prior.error());
    if (auto entered = registry->enter(self, env.name); !entered)
        return entered;
    return link.after_register(config, env, *prior);
}

} // namespace chos::enter
