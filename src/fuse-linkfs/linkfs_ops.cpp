#include "fuse-linkfs/linkfs_ops.hpp"

#include "common/layout.hpp"
#include "fuse-linkfs/log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace chos::linkfs {

namespace {

constexpr fuse_ino_t root_ino = FUSE_ROOT_ID;
constexpr fuse_ino_t link_ino = 2;

// The target is not an attribute and the tree never changes, so names and
// attributes may be cached "forever": every LOOKUP saved is an upcall saved (P7).
// What must never be cached is the readlink answer (see op_init).
constexpr double forever = 86400.0;

constexpr const char* link_name = layout::link_name.data();
// LOOKUP of this name drops the caller's cache entry (docs/architecture.md "The link").
constexpr const char* flush_name = layout::flush_name.data();

LinkfsContext& context(fuse_req_t req) noexcept
{
    return *static_cast<LinkfsContext*>(fuse_req_userdata(req));
}

struct stat attributes(fuse_ino_t ino, std::time_t when) noexcept
{
    struct stat st {};
    st.st_ino = ino;
    st.st_uid = 0;
    st.st_gid = 0;
    st.st_atim.tv_sec = st.st_mtim.tv_sec = st.st_ctim.tv_sec = when;
    if (ino == root_ino) {
        st.st_mode = S_IFDIR | 0755;
        st.st_nlink = 2;
    } else {
        // Size 0: the target differs per caller; readers such as coreutils'
        // readlink treat st_size as a hint only.
        st.st_mode = S_IFLNK | 0777;
        st.st_nlink = 1;
    }
    return st;
}

void op_init(void* userdata, fuse_conn_info* conn) noexcept
{
    (void)userdata;
    // With FUSE_CAP_CACHE_SYMLINKS the kernel keeps the first readlink answer in the
    // page cache and serves it to every later reader: one caller's target went to
    // everyone (measured; docs/architecture.md "The link"). Off by default; make sure.
    conn->want &= ~static_cast<unsigned>(FUSE_CAP_CACHE_SYMLINKS);
    log::debug("init: protocol %u.%u, capable 0x%x, want 0x%x", conn->proto_major, conn->proto_minor,
               conn->capable, conn->want);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) noexcept
{
    if (parent != root_ino) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    if (std::strcmp(name, link_name) == 0) {
        fuse_entry_param e{};
        e.ino = link_ino;
        e.generation = 1;
        e.attr = attributes(link_ino, context(req).started);
        e.attr_timeout = forever;
        e.entry_timeout = forever;
        fuse_reply_entry(req, &e);
        return;
    }
    if (std::strcmp(name, flush_name) == 0) {
        const fuse_ctx* ctx = fuse_req_ctx(req);
        context(req).resolver->forget(ctx->pid);
        log::debug("flush by pid %d (uid %u)", static_cast<int>(ctx->pid), static_cast<unsigned>(ctx->uid));
        // A plain error reply: the kernel creates no negative dentry with a timeout
        // for it (fuse_lookup invalidates it), so the next flush reaches us again.
        // A zero-ino fuse_reply_entry() would be cached as a negative entry.
    }
    fuse_reply_err(req, ENOENT);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept
{
    (void)fi;
    if (ino != root_ino && ino != link_ino) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    const struct stat st = attributes(ino, context(req).started);
    fuse_reply_attr(req, &st, forever);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) noexcept
{
    if (ino != link_ino) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    // The request's pid is the calling thread's id in our pid namespace (0 when
    // the caller's namespace is not below ours).
    const fuse_ctx* ctx = fuse_req_ctx(req);
    const Answer a = context(req).resolver->resolve(ctx->pid);
    if (a.err != 0) {
        log::caller_notice(ctx->uid, "readlink by pid %d (uid %u) refused: %s", static_cast<int>(ctx->pid),
                           static_cast<unsigned>(ctx->uid), a.why.empty() ? std::strerror(a.err) : a.why.c_str());
        fuse_reply_err(req, a.err);
        return;
    }
    log::debug("readlink by pid %d (uid %u): %s (%s)", static_cast<int>(ctx->pid), static_cast<unsigned>(ctx->uid),
               a.target, a.how);
    fuse_reply_readlink(req, a.target);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) noexcept
{
    if (ino != root_ino) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fuse_reply_open(req, fi);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) noexcept
{
    (void)fi;
    if (ino != root_ino) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    struct Item {
        const char* name;
        fuse_ino_t ino;
        mode_t mode;
    };
    static constexpr Item items[] = {{".", root_ino, S_IFDIR}, {"..", root_ino, S_IFDIR}, {link_name, link_ino, S_IFLNK}};
    char buf[512];
    const std::size_t limit = std::min(size, sizeof buf);
    std::size_t used = 0;
    for (off_t i = std::max<off_t>(off, 0); i < static_cast<off_t>(std::size(items)); ++i) {
        const Item& item = items[i];
        struct stat st {};
        st.st_ino = item.ino;
        st.st_mode = item.mode;
        const std::size_t len = fuse_add_direntry(req, buf + used, limit - used, item.name, &st, i + 1);
        if (len > limit - used)
            break;
        used += len;
    }
    fuse_reply_buf(req, buf, used);
}

const fuse_lowlevel_ops operations = [] {
    fuse_lowlevel_ops ops{};
    ops.init = op_init;
    ops.lookup = op_lookup;
    ops.getattr = op_getattr;
    ops.readlink = op_readlink;
    ops.opendir = op_opendir;
    ops.readdir = op_readdir;
    return ops;
}();

} // namespace

const fuse_lowlevel_ops& linkfs_operations() noexcept
{
    return operations;
}

} // namespace chos::linkfs
