#include "setup/check.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace chos::setup {

namespace {

config::Diagnostic at(const config::Config& config, int line, std::string message)
{
    return {config.source, line, line > 0 ? 3 : 0, std::move(message)};
}

} // namespace

CheckReport check_system(const config::Config& config)
{
    CheckReport report;
    for (const auto& env : config.environments) {
        const std::string head = "environment '" + env.name + "': ";
        struct stat st {};
        if (::lstat(env.path.c_str(), &st) != 0) {
            report.errors.push_back(at(config, env.line, head + "path '" + env.path + "': " + std::strerror(errno)));
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            report.errors.push_back(at(config, env.line, head + "path '" + env.path + "' is not a directory"));
            continue;
        }
        // A tree somebody else can write is a tree somebody else controls: its
        // libraries run in every process of the environment (SECURITY.md H).
        if (st.st_uid != 0)
            report.errors.push_back(at(config, env.line, head + "tree '" + env.path + "' is owned by uid " +
                                                             std::to_string(st.st_uid) + ", not root"));
        if (st.st_mode & (S_IWGRP | S_IWOTH))
            report.errors.push_back(at(config, env.line, head + "tree '" + env.path + "' is writable by group or others"));
        for (const auto& user : env.users)
            if (!::getpwnam(user.c_str()))
                report.warnings.push_back(at(config, env.line, head + "user '" + user + "' is unknown to NSS"));
        for (const auto& group : env.groups)
            if (!::getgrnam(group.c_str()))
                report.warnings.push_back(at(config, env.line, head + "group '" + group + "' is unknown to NSS"));
    }
    for (const auto& bind : config.binds) {
        struct stat st {};
        if (::stat(bind.source.c_str(), &st) != 0) {
            if (bind.optional)
                report.warnings.push_back(at(config, 0, "optional bind source '" + bind.source + "' does not exist: skipped"));
            else
                report.errors.push_back(at(config, 0, "bind source '" + bind.source + "': " + std::strerror(errno)));
        }
    }
    for (const auto& file : config.shared_files) {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0)
            report.errors.push_back(at(config, 0, "shared file '" + file + "': " + std::strerror(errno)));
        else if (!S_ISREG(st.st_mode))
            report.errors.push_back(at(config, 0, "shared file '" + file + "' is not a regular file"));
    }
    return report;
}

std::string summary(const config::Config& config)
{
    std::size_t width = 4;
    for (const auto& env : config.environments)
        width = std::max(width, env.name.size());
    std::string text = config.source + ": OK: " + std::to_string(config.environments.size()) + " environment" +
                       (config.environments.size() == 1 ? "" : "s") + ", default " +
                       (config.default_environment.empty() ? "(none)" : config.default_environment) + "\n";
    for (const auto& env : config.environments) {
        std::string who;
        if (!env.restricted())
            who = "everyone";
        if (!env.users.empty()) {
            who = "users ";
            for (std::size_t i = 0; i < env.users.size(); ++i)
                who += (i ? "," : "") + env.users[i];
        }
        if (!env.groups.empty()) {
            who += who.empty() ? "groups " : "; groups ";
            for (std::size_t i = 0; i < env.groups.size(); ++i)
                who += (i ? "," : "") + env.groups[i];
        }
        text += "  " + env.name + std::string(width - env.name.size() + 2, ' ') + (env.is_host() ? "(host) " : "") +
                env.path + "  [" + who + "]" + (env.description.empty() ? "" : "  " + env.description) + "\n";
    }
    return text;
}

} // namespace chos::setup
