// What CHOS lays over each environment's tree without writing it: a read-only overlay
// of a directory CHOS keeps in the tree (<tree>/.chos/<d>) on top of the matching
// directory inside the environment, so the environment's own files show through and
// CHOS's are added.
//
//   .chos/profile.d/chos.sh  over etc/profile.d  chos and chos-run on PATH in every
//                                                 login shell (whose /etc/profile resets
//                                                 PATH)
//   .chos/ssh/sshrc          over etc/ssh         sshd runs it in every session: it says
//                                                 on stderr what pam_chos told a session
//                                                 without a terminal ("ssh host command"),
//                                                 and does sshd's X11 step
//
// Only where the environment has the directory: a tree is never written, so no
// directory is made in it; a tree whose etc/ssh has an sshrc of its own keeps it (with
// a warning: sshd then runs that one).
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "config/config.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"
#include "setup/undo.hpp"

#include <string>

namespace chos::setup {

// Write CHOS's layers into the tree's own tmpfs (every start and reload: an upgraded
// chos-setup brings its new files).
[[nodiscard]] Result<> write_overlay_layers(const Tree& tree);

// Lay every overlay over the environment mounted in its gate (nothing for the host
// environment; an overlay laid already is kept).
[[nodiscard]] Result<> lay_overlays(const Tree& tree, const config::Environment& environment, UndoLog& undo,
                                    BuildReport& report);

// Why an environment with an etc/ssh/sshrc of its own gets no overlay there (start,
// reload and check say it alike, after "environment 'NAME': ").
[[nodiscard]] std::string own_sshrc_warning();

} // namespace chos::setup
