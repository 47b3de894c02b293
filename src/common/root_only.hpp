// The one ownership rule for anything that decides privileged behaviour: it belongs
// to root (or, for a test's own files, one stated owner) and neither its group nor
// others can write it (docs/architecture.md "Platform layer"). A file or directory
// someone else can write is one they control: a pre-created run directory, a
// registry cgroup, a pid file, an environment tree, a launcher binary (docs/
// threat-model.md, classes F, K2 and H: pre-created state, forged registrations,
// setuid trees; Singularity CVE-2019-11328, cgroup v1 CVE-2022-0492, Apptainer
// CVE-2023-30549).
//
// Always checked on an opened object (fstat of a pinned fd), never on a name.
#pragma once

#include "common/error.hpp"
#include "common/fd.hpp"

#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

namespace chos::platform {

enum class FileKind { any, directory, regular };

struct OwnerRule {
    uid_t owner = 0;        // who must own it (root in production)
    bool or_root = false;   // root may own it too (the directories above a test's file)
    bool sticky_ok = false; // a sticky directory may be writable by others (/tmp: nobody
                            // can rename or remove what they do not own there)
};

// Why `st` breaks the rule, as the end of a message ("is owned by uid 1000, not
// root", "is writable by group or others", "is not a directory"); nullopt when it
// keeps it.
[[nodiscard]] std::optional<std::string> ownership_problem(const struct stat& st, FileKind kind = FileKind::any,
                                                           OwnerRule rule = {});

// fstat(fd) and the rule above: error("<what>", shown, reason) when it is broken.
[[nodiscard]] Result<> check_root_only(int fd, FileKind kind, const char* what, const std::string& shown,
                                       OwnerRule rule = {});

// The directory `path` (absolute, not "/"), created 0755 -- whatever the umask -- when
// missing, opened O_PATH without following a symlink on the way, and held to the rule:
// one that someone pre-created and root does not own alone is refused ("<what>: 'path':
// ..."), never adopted.
[[nodiscard]] Result<Fd> ensure_root_directory(const std::string& path, const char* what);

} // namespace chos::platform
