// The namespace backend's record (docs/architecture.md "The namespace backend"):
// <run_dir>/namespaces, written by the namespace holder (chos-nsd) once every
// environment's mount namespace is built, read by the launchers.
//
//   holder <pid> <start time>
//   host <fd> <inode>             the host's mount namespace, held by the holder
//   env <name> <fd> <inode>       one line per environment that has a namespace
//
// A namespace is entered only through the holder: /proc/<pid>/fd/<fd> opened by root,
// and believed only when the holder is the process of the record (pidfd, start time,
// root-owned), the file is an nsfs file with the recorded inode, and the holder is
// still alive after the open -- so a reused pid, a user's own `unshare -Urm` or a
// namespace a user made can never be handed to a launcher (docs/threat-model.md,
// class S). Library code: returns values, never prints.
#pragma once

#include "common/error.hpp"
#include "common/layout.hpp"
#include "common/fd.hpp"

#include <map>
#include <string>
#include <sys/types.h>

namespace chos::link {

inline constexpr const char* ns_record_name = layout::ns_record_name.data();
inline constexpr const char* ns_pid_file_name = layout::ns_pid_file_name.data();
inline constexpr const char* ns_holder_comm = "chos-nsd";

struct HeldNamespace {
    int fd = -1;           // the descriptor number in the holder
    unsigned long long inode = 0;
};

struct NsRecord {
    pid_t pid = 0;
    unsigned long long start_time = 0;
    HeldNamespace host;
    std::map<std::string, HeldNamespace> environments;
};

[[nodiscard]] std::string encode(const NsRecord& record);
// Parse a record; an error names the first bad line.
[[nodiscard]] Result<NsRecord> decode_ns_record(std::string_view text);

// <run_dir>/namespaces: a root-owned regular file, else an error.
[[nodiscard]] Result<NsRecord> read_ns_record(const std::string& run_dir);

// The held namespace, opened through the holder and verified (see above). The error
// says "chos-nsd is not running" when the holder of the record is gone.
[[nodiscard]] Result<Fd> open_held(const NsRecord& record, const HeldNamespace& held, const std::string& shown);

// The inode of the mount namespace the caller is in (0 when /proc cannot say).
[[nodiscard]] unsigned long long own_mount_namespace();

} // namespace chos::link
