// Is a path the administrator's alone? Every directory in which one of its names is
// looked up -- symbolic links followed, each hop checked -- must be root's and not
// writable by group or others (a sticky one, like /tmp, only when the entry looked up
// in it is root's: nobody else can then rename or remove it). Otherwise whoever owns or
// can write that directory can repoint the path, at every later start or reload, and
// choose what root mounts there (docs/threat-model.md, class C and J).
//
// Checked by chos-setup check, start and reload alike (setup/check.hpp), on names: what
// it accepts only root can change afterwards, so the later mount follows the same path.
#pragma once

#include <optional>
#include <string>

namespace chos::platform {

// Why `path` (absolute) is not the administrator's alone, as the end of a message:
// "a symlink through a directory owned by uid 1000 ('/home/u')", "passes through
// '/srv/x', writable by group or others", "'/srv/x/y': No such file or directory";
// nullopt when it is.
[[nodiscard]] std::optional<std::string> path_problem(const std::string& path);

} // namespace chos::platform
