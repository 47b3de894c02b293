// CHOS's read-only overlays on the environments' trees (see overlays.hpp).
#include "setup/overlays.hpp"

#include "common/file_io.hpp"
#include "common/layout.hpp"
#include "setup/mounts.hpp"

#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/mount.h>

namespace chos::setup {

namespace {

const std::string sessions_not_told = "ssh sessions without a terminal do not show pam_chos's messages";

// Login shells reset PATH through the environment's /etc/profile; its profile.d (this
// snippet laid over it) puts the launchers back.
std::string profile_snippet()
{
    const std::string dir(layout::launcher_dir_inside);
    return "# chos-setup(8): chos and chos-run on PATH in every shell of a CHOS environment,\n"
           "# whatever this environment's /etc/profile set PATH to.\n"
           "case \":$PATH:\" in\n"
           "*:" + dir + ":*) ;;\n"
           "*) if [ -d " + dir + " ]; then PATH=\"$PATH:" + dir + "\"; export PATH; fi ;;\n"
           "esac\n";
}

// sshd(8) runs /etc/ssh/sshrc with /bin/sh before the user's shell or command, in every
// session, unless the user has a ~/.ssh/rc; its stderr is the session's. sshd shows
// what pam_chos said through PAM (a fallback to the default environment, an ignored
// ~/.chos) only to a terminal login without a command and without ~/.hushlogin, so this
// says it when there is no terminal or there is a ~/.hushlogin. When an sshrc exists,
// sshd leaves the X11 cookie to it (on stdin, as "protocol cookie"), so it is added here
// as sshd would.
std::string ssh_rc()
{
    const std::string note(layout::note_variable);
    return "# chos-setup(8), pam_chos(8): sshd runs this file in every session of a CHOS environment.\n"
           "# Without a terminal (\"ssh host command\"), what pam_chos told the session goes to\n"
           "# stderr: sshd shows PAM's messages only to terminal logins, and not to those of a\n"
           "# user with a ~/.hushlogin.\n"
           "if [ -n \"${" + note + ":-}\" ] && { [ -z \"${SSH_TTY:-}\" ] || [ -e \"${HOME:-/nonexistent}/.hushlogin\" ]; }; then\n"
           "    printf '%s\\n' \"$" + note + "\" >&2\n"
           "fi\n"
           "# X11 forwarding: sshd hands the cookie to an sshrc instead of running xauth.\n"
           "if read -r proto cookie && [ -n \"${DISPLAY:-}\" ] && command -v xauth >/dev/null 2>&1; then\n"
           "    case $DISPLAY in\n"
           "    localhost:*) display=unix:${DISPLAY#localhost:} ;;\n"
           "    *) display=$DISPLAY ;;\n"
           "    esac\n"
           "    printf 'add %s %s %s\\n' \"$display\" \"$proto\" \"$cookie\" | xauth -q -\n"
           "fi\n";
}

Result<> write_layer(const Tree& tree, std::string_view dir, std::string_view name, const std::string& content)
{
    const std::string relative(dir);
    if (auto made = make_directories(tree.create_in(), relative, 0755); !made)
        return std::unexpected(made.error());
    auto writable = open_beneath(tree.root.get(), relative, O_RDONLY | O_DIRECTORY, tree.shown(relative));
    if (!writable)
        return std::unexpected(writable.error());
    return platform::replace_file(writable->get(), std::string(name), content, 0644, tree.shown(relative));
}

// Lay <tree>/<ours> over `target` (the environment's directory, pinned): the layers by
// fd, so no path of the tree is parsed again (':' and ',' in it are harmless).
// Read-only, nosuid, nodev: the tree on disk is never written.
Result<> lay(const Tree& tree, std::string_view ours, int target, const std::string& shown, UndoLog& undo,
             BuildReport& report)
{
    const std::string ours_relative(ours);
    auto layer = open_beneath(tree.root.get(), ours_relative, O_PATH | O_DIRECTORY, tree.shown(ours_relative));
    if (!layer)
        return std::unexpected(layer.error());
    const std::string lower =
        "/proc/self/fd/" + std::to_string(layer->get()) + ":/proc/self/fd/" + std::to_string(target);
    auto mount = platform::mount_new("overlay", {{"lowerdir", lower.c_str()}},
                                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, target, shown);
    if (!mount)
        return std::unexpected(mount.error());
    auto pinned = std::make_shared<Fd>(std::move(*mount));
    undo.add([pinned, shown] { (void)detach(pinned->get(), shown); });
    report.note("laid '" + tree.shown(ours_relative) + "' over '" + shown + "'");
    return {};
}

// The environment's directory `inside` (relative to its tree), to lay an overlay on.
struct EnvironmentDir {
    std::optional<Fd> fd; // nullopt: missing, not a directory, or reached through a symlink
    std::string shown;    // its path, for messages
    std::string why;      // without fd: why
    bool laid = false;    // an overlay is on it already (a repairing start, a reload)
};

Result<EnvironmentDir> environment_dir(const Tree& tree, const std::string& environment, std::string_view inside)
{
    const std::string relative = layout::gated_tree_of(environment) + "/" + std::string(inside);
    EnvironmentDir dir{std::nullopt, tree.shown(relative), {}, false};
    auto fd = open_beneath(tree.root.get(), relative, O_PATH | O_DIRECTORY, dir.shown);
    if (!fd) {
        dir.why = fd.error().str();
        return dir;
    }
    auto laid = is_mount_root(fd->get(), dir.shown);
    if (!laid)
        return std::unexpected(laid.error());
    dir.laid = *laid;
    dir.fd = std::move(*fd);
    return dir;
}

Result<> overlay_profile(const Tree& tree, const config::Environment& environment, UndoLog& undo,
                         BuildReport& report)
{
    auto dir = environment_dir(tree, environment.name, layout::environment_profile_dir);
    if (!dir)
        return std::unexpected(dir.error());
    if (!dir->fd) {
        // Only a tree with an /etc/profile (which may reset PATH) needs the snippet.
        const std::string profile = layout::gated_tree_of(environment.name) + "/etc/profile";
        auto found = open_beneath(tree.root.get(), profile, O_PATH, tree.shown(profile));
        if (!found && found.error().err == ENOENT)
            return {};
        report.warn("environment '" + environment.name + "': no directory /" +
                    std::string(layout::environment_profile_dir) + " (" + dir->why +
                    "): its login shells do not get " + std::string(layout::launcher_dir_inside) + " on PATH");
        return {};
    }
    if (dir->laid)
        return {};
    return lay(tree, layout::profile_dir, dir->fd->get(), dir->shown, undo, report);
}

Result<> overlay_sshrc(const Tree& tree, const config::Environment& environment, UndoLog& undo,
                       BuildReport& report)
{
    const std::string what = "environment '" + environment.name + "': ";
    auto dir = environment_dir(tree, environment.name, layout::environment_ssh_dir);
    if (!dir)
        return std::unexpected(dir.error());
    if (!dir->fd) {
        report.note(what + "no directory /" + std::string(layout::environment_ssh_dir) + " (" + dir->why + "): " +
                    sessions_not_told);
        return {};
    }
    if (dir->laid)
        return {};
    const std::string rc(layout::ssh_rc);
    auto own = open_beneath(dir->fd->get(), rc, O_PATH, dir->shown + "/" + rc);
    if (own || own.error().err != ENOENT) {
        report.warn(what + own_sshrc_warning());
        return {};
    }
    return lay(tree, layout::ssh_dir, dir->fd->get(), dir->shown, undo, report);
}

} // namespace

std::string own_sshrc_warning()
{
    return "keeps its own /" + std::string(layout::environment_ssh_dir) + "/" + std::string(layout::ssh_rc) +
           " (sshd runs that one): " + sessions_not_told;
}

Result<> write_overlay_layers(const Tree& tree)
{
    if (auto ok = write_layer(tree, layout::profile_dir, layout::profile_snippet, profile_snippet()); !ok)
        return ok;
    return write_layer(tree, layout::ssh_dir, layout::ssh_rc, ssh_rc());
}

Result<> lay_overlays(const Tree& tree, const config::Environment& environment, UndoLog& undo,
                      BuildReport& report)
{
    if (environment.is_host())
        return {};
    if (auto ok = overlay_profile(tree, environment, undo, report); !ok)
        return ok;
    return overlay_sshrc(tree, environment, undo, report);
}

} // namespace chos::setup
