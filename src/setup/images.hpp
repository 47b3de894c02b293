// Environments from image files (chos.yaml(5) "image"; docs/images.md): each image is
// mounted once per node, read-only, nosuid, nodev, at <run_dir>/images/<env>@<dev>:<ino>
// (a root-only directory: only the environment's gate leads into it), and that mount is
// then the environment's tree exactly like a `path:` tree (environments.hpp binds it
// behind the gate). The file's device and inode are in the name, so a file replaced at
// the same path is a new mount; the old one stays while processes use it.
// Library code: returns Result values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"
#include "common/image_file.hpp"
#include "config/config.hpp"
#include "setup/report.hpp"
#include "setup/tree.hpp"
#include "setup/undo.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chos::setup {

// "<env>@<dev>:<ino>": the mount of this version of the environment's image.
[[nodiscard]] std::string image_mount_name(const std::string& environment, dev_t dev, ino_t ino);

// Open and check the environment's image (common/image_file.hpp), refusing with
// "environment '<env>': refusing image: '<file>': <reason>".
[[nodiscard]] Result<platform::ImageFile> open_environment_image(const config::Config& config,
                                                                 const config::Environment& environment);

// The environment's image mounted at <run_dir>/images/<name> (mounted now, or found
// mounted by an earlier start or reload). Returns the mount's root, O_PATH.
[[nodiscard]] Result<Fd> ensure_image_mount(const config::Config& config, const config::Environment& environment,
                                            UndoLog& undo, BuildReport& report);

// An image mount found under <run_dir>/images.
struct ImageMount {
    std::string name;        // "<env>@<dev>:<ino>"
    std::string environment; // "<env>"
    bool mounted = false;    // false: an empty directory left behind
    bool serving = false;    // the environment's gate binds this one (new launches get it)
    std::size_t users = 0;   // processes using its file system (processes_using), counted
                             // only when it is not served
};

// What is under <run_dir>/images; `tree` (nullptr: none) tells which mounts are served.
[[nodiscard]] Result<std::vector<ImageMount>> list_image_mounts(const config::Config& config, const Tree* tree);

// Processes whose root, working directory, executable, open files or mapped files lie
// on the file system `dev` (from /proc): how "in use" is told for an old image.
[[nodiscard]] std::size_t processes_using(dev_t dev);

// Unmount (lazily: the kernel keeps the file system for whoever still holds a file of
// it, and a squashfs's loop device clears itself with the last user) and remove every
// image mount that is not served and that no process uses. Returns those kept, with
// their users. reload and stop (tree == nullptr: none is served) call it.
[[nodiscard]] Result<std::vector<ImageMount>> sweep_image_mounts(const config::Config& config, const Tree* tree,
                                                                 BuildReport& report);

} // namespace chos::setup
