// The tree's layout and the link's answers, named once (docs/architecture.md "The
// tree" and "The link"). chos-setup builds these paths, the link backends answer with
// them, the enter library walks them; every spelling of ".chos/fs" or "../../local"
// in the sources is one of these constants.
//
//   <tree>/<d>               -> ".chos/fs/link/<d>"   one relative symlink per os_dirs entry
//   <tree>/chos              -> "/"                   "/chos/..." paths work inside the chroot
//   <tree>/local             the host's root (rbind)
//   <tree>/.chos/fs/link     the per-process link (chos-linkfs, or the module's file system)
//   <tree>/.chos/os/<env>    -> "../gate/<env>/tree", or -> "../../local" for the host
//   <tree>/.chos/gate/<env>  the environment's gate: root's directory, searchable only by
//                            the users and groups of its allow-list (POSIX ACL), or by
//                            everyone when it has none; the kernel enforces the allow-list
//                            for every path into the tree, whoever asks and however
//                            (docs/threat-model.md, class S)
//   <tree>/.chos/gate/<env>/tree  the environment's tree (rbind)
//   <tree>/.chos/bin/        the setuid launchers (the only setuid programs inside), and
//                            one link "<name>" -> "chos-run" per host command
//   <tree>/.chos/profile.d/  chos.sh, overlaid on each environment's etc/profile.d
//   <tree>/.chos/ssh/        sshrc, overlaid on each environment's etc/ssh
//
// Every symlink is relative, so it resolves the same from the host (/chos/bin ->
// /chos/.chos/fs/link/bin) and from inside the chroot (/bin -> /.chos/fs/link/bin).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace chos::layout {

// Directories of the tree, relative to its root.
inline constexpr std::string_view meta_dir = ".chos";          // everything CHOS keeps in the tree
inline constexpr std::string_view link_dir = ".chos/fs";       // the link's file system is mounted here
inline constexpr std::string_view os_dir = ".chos/os";         // one entry per environment
inline constexpr std::string_view gate_dir = ".chos/gate";     // one gate per environment
inline constexpr std::string_view gated_tree_name = "tree";    // the tree, inside its gate
inline constexpr std::string_view launcher_dir = ".chos/bin";  // binds of chos and chos-run
// What a host command's link in launcher_dir points to (host_commands in chos.yaml(5)).
inline constexpr std::string_view host_command_target = "chos-run";
// The shell snippet that puts launcher_dir_inside on PATH, laid over each environment's
// etc/profile.d (a read-only overlay: the tree on disk is never written).
inline constexpr std::string_view profile_dir = ".chos/profile.d";
inline constexpr std::string_view profile_snippet = "chos.sh";
inline constexpr std::string_view environment_profile_dir = "etc/profile.d";
// sshd's system rc file, laid over each environment's etc/ssh (setup/overlays.hpp): it
// prints note_variable on stderr, which pam_chos sets to what it told the session.
inline constexpr std::string_view ssh_dir = ".chos/ssh";
inline constexpr std::string_view ssh_rc = "sshrc";
inline constexpr std::string_view environment_ssh_dir = "etc/ssh";
inline constexpr std::string_view note_variable = "CHOS_NOTE";
inline constexpr std::string_view host_root = "local";         // the host's root
inline constexpr std::string_view root_alias = "chos";         // symlink to "/"
inline constexpr std::string_view tree_marker = ".chos/tree-version"; // "this tmpfs is a CHOS tree"
inline constexpr std::string_view setup_state = ".chos/setup-state";  // what chos-setup mounted

// Names inside the link's directory.
inline constexpr std::string_view link_name = "link";
// A lookup of this name makes chos-linkfs forget the caller's cached answer.
inline constexpr std::string_view flush_name = "flush";

// The target of the OS directory link <d>: os_link_prefix + d.
inline constexpr std::string_view os_link_prefix = ".chos/fs/link/";

// The link's answers, relative to the directory holding the link (<tree>/.chos/fs):
inline constexpr std::string_view answer_unregistered = "../../local"; // the host
inline constexpr std::string_view answer_prefix = "../os/";            // + <env>
// The entry of an environment whose path is "/", relative to <tree>/.chos/os.
inline constexpr std::string_view host_entry_target = "../../local";

// The launchers' directory as seen inside the chroot (appended to PATH).
inline constexpr std::string_view launcher_dir_inside = "/.chos/bin";

// Files chos-setup keeps in run_dir for the launchers and the daemon.
inline constexpr std::string_view pid_file_name = "linkfs.pid";
inline constexpr std::string_view guard_pid_file_name = "guard.pid"; // chos-guard's
inline constexpr std::string_view registry_record_name = "registry";
inline constexpr std::string_view ns_pid_file_name = "nsd.pid";    // chos-nsd's (backend namespace)
inline constexpr std::string_view ns_record_name = "namespaces";   // the namespaces chos-nsd holds
inline constexpr std::string_view images_dir_name = "images"; // image mounts (docs/images.md)
// Every file CHOS keeps in run_dir (a run_dir holding anything else is not CHOS's).
inline constexpr std::array run_dir_files{pid_file_name, guard_pid_file_name, registry_record_name,
                                          ns_pid_file_name, ns_record_name, images_dir_name};

// "<tree>/<relative>" ("" gives the tree itself).
[[nodiscard]] inline std::string in_tree(std::string_view tree, std::string_view relative)
{
    std::string path(tree);
    if (!relative.empty()) {
        path += '/';
        path += relative;
    }
    return path;
}

// ".chos/gate/<env>" and ".chos/gate/<env>/tree", relative to the tree.
[[nodiscard]] inline std::string gate_of(std::string_view environment)
{
    return std::string(gate_dir) + "/" + std::string(environment);
}
[[nodiscard]] inline std::string gated_tree_of(std::string_view environment)
{
    return gate_of(environment) + "/" + std::string(gated_tree_name);
}
// The target of <tree>/.chos/os/<env> for an environment with a tree (relative to
// <tree>/.chos/os): "../gate/<env>/tree".
[[nodiscard]] inline std::string gated_entry_target(std::string_view environment)
{
    return "../gate/" + std::string(environment) + "/" + std::string(gated_tree_name);
}

// "<tree>/.chos/os/<env>": where an environment's tree appears (through its gate).
[[nodiscard]] inline std::string environment_entry(std::string_view tree, std::string_view environment)
{
    return in_tree(tree, os_dir) + "/" + std::string(environment);
}

// The link answer for a process registered in `environment`: "../os/<env>".
[[nodiscard]] inline std::string answer_for(std::string_view environment)
{
    return std::string(answer_prefix) + std::string(environment);
}

} // namespace chos::layout
