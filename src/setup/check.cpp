#include "setup/check.hpp"

#include "common/layout.hpp"
#include "common/pinned_open.hpp"
#include "common/root_only.hpp"
#include "common/trusted_path.hpp"
#include "config/legacy.hpp"
#include "setup/commands.hpp"
#include "setup/images.hpp"
#include "setup/overlays.hpp"
#include "setup/placement.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace chos::setup {

namespace {

config::Diagnostic at(const config::Config& config, int line, std::string message)
{
    return {config.source, line, line > 0 ? 3 : 0, std::move(message)};
}

// Can a user who is not root, not the owner and not in the group reach `path` (search
// every directory above it, and read or search it)?
bool reachable_by_others(const std::string& path)
{
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        struct stat st {};
        if (::stat(path.substr(0, slash).c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0)
            return false;
    }
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IROTH | S_IXOTH)) != 0;
}

// The tree's top levels (os_dirs) that group or others can write: whoever can is
// choosing what every user of the environment runs.
std::vector<std::string> writable_os_dirs(const config::Config& config, const config::Environment& env)
{
    std::vector<std::string> found;
    for (const auto& dir : config.os_dirs) {
        struct stat st {};
        const std::string path = env.path + "/" + dir;
        if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
            continue;
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        found.push_back("tree '" + env.path + "': '" + dir + "' is writable by " +
                        ((st.st_mode & S_IWOTH) ? "everyone" : "group " + std::to_string(st.st_gid)) + " (mode " +
                        mode + "): whoever can write it chooses what this environment's users run");
    }
    return found;
}

// A problem of the environment's tree: at its 'path:' value.
config::Diagnostic at_path(const config::Config& config, const config::Environment& env, std::string message)
{
    if (env.path_line == 0)
        return at(config, env.line, std::move(message));
    return {config.source, env.path_line, env.path_column, std::move(message)};
}

// "uid 1000" becomes "user 'alice' (uid 1000)" when NSS knows the uid.
std::string with_owner_name(std::string problem, uid_t uid)
{
    const std::string uid_text = "uid " + std::to_string(uid);
    const auto at_uid = problem.find(uid_text);
    if (const passwd* pw = ::getpwuid(uid); pw && at_uid != std::string::npos)
        problem.replace(at_uid, uid_text.size(), "user '" + std::string(pw->pw_name) + "' (" + uid_text + ")");
    return problem;
}

// `inside` (relative) as the environment's processes see it: resolved in the tree,
// its symlinks followed inside it (RESOLVE_IN_ROOT). An fd, or errno.
Result<Fd> open_in_tree(int tree, const std::string& inside)
{
    const int fd = platform::openat2_fd(tree, inside.c_str(), O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0)
        return sys_error("cannot open", inside);
    return Fd(fd);
}

// A tree users can run in: a shell and an os-release (what chos and the logins need
// first); the shared files exist there as regular files, or they are not bound.
void check_tree_contents(const config::Config& config, const config::Environment& env, CheckReport& report)
{
    const std::string head = "environment '" + env.name + "': ";
    Fd tree(::open(env.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!tree)
        return;
    std::string missing;
    for (const char* needed : {"bin/sh", "etc/os-release"})
        if (auto fd = open_in_tree(tree.get(), needed); !fd)
            missing += std::string(missing.empty() ? "" : " and ") + "/" + needed;
    if (!missing.empty())
        report.errors.push_back(at_path(config, env, head + "path '" + env.path +
                                                         "' is not a userland: no " + missing +
                                                         " in it (users would get \"cannot run\")"));
    const std::string own_rc = std::string(layout::environment_ssh_dir) + "/" + std::string(layout::ssh_rc);
    if (auto rc = open_in_tree(tree.get(), own_rc); rc)
        report.warnings.push_back(at(config, env.line, head + own_sshrc_warning()));
    // As the build binds them: beneath the tree, no symlink on the way (environments.cpp).
    for (const auto& file : config.shared_files) {
        const std::string inside = file.substr(file.find_first_not_of('/'));
        const std::string shared = head + "shared file '" + file + "' ";
        const int fd = platform::openat2_fd(tree.get(), inside.c_str(), O_PATH, platform::resolve_beneath);
        struct stat st {};
        if (fd < 0)
            report.warnings.push_back(at(config, env.line, shared + (errno == ENOENT ? "does not exist in the tree"
                                                                     : errno == ELOOP ? "is reached through a symbolic link in the tree"
                                                                                      : std::string(std::strerror(errno))) +
                                                               ": not bound"));
        else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            report.warnings.push_back(at(config, env.line, shared + "is not a regular file in the tree: not bound"));
        if (fd >= 0)
            ::close(fd);
    }
}

} // namespace

CheckReport check_system(const config::Config& config, const std::set<std::string>& unread_keys)
{
    CheckReport report;
    for (const auto& dir : config.image_dirs) {
        // The images' directories: the administrator's alone (open_image() holds every
        // directory on the way to an image to the same rule, on its descriptors).
        if (auto problem = platform::path_problem(dir)) {
            report.errors.push_back(at(config, 0, "image_dirs entry '" + dir + "': " + *problem));
            continue;
        }
        auto fd = platform::open_directory(dir);
        if (!fd)
            report.errors.push_back(at(config, 0, "image_dirs entry " + fd.error().str()));
        else if (auto ok = platform::check_root_only(fd->get(), platform::FileKind::directory, "image_dirs entry", dir); !ok)
            report.errors.push_back(at(config, 0, with_owner_name(ok.error().str(), 0)));
    }
    for (const auto& env : config.environments) {
        const std::string head = "environment '" + env.name + "': ";
        if (env.is_image()) {
            // Every check start and reload make on the opened file, without mounting it.
            if (auto image = open_environment_image(config, env); !image)
                report.images.push_back(at_path(config, env, image.error().str()));
            continue;
        }
        // A path someone else can repoint is a tree someone else chooses, at every
        // start and reload (common/trusted_path.hpp).
        if (auto problem = platform::path_problem(env.path)) {
            report.errors.push_back(at(config, env.line, head + "path '" + env.path + "': " + *problem));
            continue;
        }
        struct stat st {};
        if (::stat(env.path.c_str(), &st) != 0) {
            report.errors.push_back(at_path(config, env, head + "path '" + env.path + "': " + std::strerror(errno)));
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            report.errors.push_back(at_path(config, env, head + "path '" + env.path + "' is not a directory"));
            continue;
        }
        // A tree somebody else can write is a tree somebody else controls: its
        // libraries run in every process of the environment (docs/threat-model.md,
        // class H: setuid and devices in trees).
        if (auto problem = platform::ownership_problem(st))
            report.errors.push_back(
                at_path(config, env, head + "tree '" + env.path + "' " + with_owner_name(*problem, st.st_uid)));
        if (!env.is_host()) {
            for (auto& warning : writable_os_dirs(config, env))
                report.warnings.push_back(at(config, env.line, head + warning));
            check_tree_contents(config, env, report);
        }
        if (env.restricted() && !env.is_host() && reachable_by_others(env.path))
            report.warnings.push_back(at(
                config, env.line,
                head + "tree '" + env.path +
                    "' is reachable by every user on the host (and through /chos/local): the allow-list then "
                    "only binds the launcher and the tree's gate; make the tree or a directory above it "
                    "unsearchable by others (e.g. 0750 root:<group>) (see chos.yaml(5))"));
        for (const auto& user : env.users)
            if (!::getpwnam(user.c_str()))
                report.warnings.push_back(at(config, env.line, head + "user '" + user + "' is unknown to NSS"));
        for (const auto& group : env.groups)
            if (!::getgrnam(group.c_str()))
                report.warnings.push_back(at(config, env.line, head + "group '" + group + "' is unknown to NSS"));
    }
    // (a key the parser refused left its default: no finding about a path nobody wrote)
    if (!unread_keys.contains("tree") && !unread_keys.contains("run_dir") && !unread_keys.contains("registry"))
        for (auto& problem : placement_problems(config))
            report.errors.push_back(at(config, 0, std::move(problem)));
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
        text += "  " + env.name + std::string(width - env.name.size() + 2, ' ') + (env.is_host() ? "(host) " : env.is_image() ? "(image) " : "") +
                env.source() + "  [" + who + "]" + (env.description.empty() ? "" : "  " + env.description) + "\n";
    }
    return text;
}

namespace {

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

} // namespace

Outcome check(const std::string& config_path, bool syntax_only)
{
    Outcome out;
    // Every problem at once: the rules' problems, then the machine's for whatever parsed
    // (a partial configuration is only ever checked, never started: config::PartialConfig).
    config::PartialConfig parsed;
    try {
        // --syntax-only reads any file (an admin's draft); a full check holds the file
        // to the launcher's rules: root-owned, not writable by others, no links.
        std::string text;
        if (syntax_only) {
            std::string error;
            auto plain = read_plain_file(config_path, error);
            if (!plain)
                return std::move(out.fail(error));
            text = std::move(*plain);
        } else {
            text = config::read_trusted_file(config_path, {});
        }
        parsed = config::parse_config_partial(text, config_path);
    } catch (const config::ConfigError& e) {
        for (const auto& d : e.diagnostics())
            out.diagnostics.push_back(d.str());
        out.status = 1;
        return out;
    }
    for (const auto& d : parsed.errors)
        out.diagnostics.push_back(d.str());
    if (!parsed.errors.empty())
        out.status = 1;
    if (!syntax_only && parsed.readable) {
        auto report = check_system(parsed.config, parsed.failed_keys);
        for (const auto& d : report.warnings)
            out.diagnostics.push_back(d.str() + " (warning)");
        for (const auto& d : report.errors)
            out.diagnostics.push_back(d.str());
        for (const auto& d : report.images)
            out.diagnostics.push_back(d.str());
        if (!report.errors.empty() || !report.images.empty())
            out.status = 1;
    }
    if (out.status == 0)
        out.text.push_back(summary(parsed.config));
    return out;
}

Outcome import_legacy(const std::string& chos_path, const std::string& sysconfig_path, bool chos_given,
                      bool sysconfig_given)
{
    Outcome out;
    std::string error;
    std::optional<std::string> chos_text, sys_text;
    if (::access(chos_path.c_str(), F_OK) == 0 || chos_given) {
        if (!(chos_text = read_plain_file(chos_path, error)))
            return std::move(out.fail(error));
    }
    if (::access(sysconfig_path.c_str(), F_OK) == 0 || sysconfig_given) {
        if (!(sys_text = read_plain_file(sysconfig_path, error)))
            return std::move(out.fail(error));
    }
    if (!chos_text && !sys_text)
        return std::move(
            out.fail("nothing to import: neither '" + chos_path + "' nor '" + sysconfig_path + "' exists"));
    auto result = config::import_legacy(chos_text, chos_path, sys_text, sysconfig_path);
    for (auto& w : result.warnings)
        out.diagnostics.push_back("chos-setup: " + w); // stderr: stdout is the YAML
    out.text.push_back(std::move(result.yaml));
    return out;
}

} // namespace chos::setup
