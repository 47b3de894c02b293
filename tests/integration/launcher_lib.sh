# tests/integration/launcher_lib.sh -- helpers of the launcher_*.sh tests, sourced
# after lib.sh's it_main (inner half: private mount and pid namespaces).
#
# Everything here changes only this test's mount namespace: test users come from
# lib.sh's it_user (the namespace's own /etc and /home); /dev/log is a listener of
# ours on a private /dev.

# lt_private_dev: this namespace's own /dev (device nodes on a tmpfs, a new devpts
# instance) with /dev/log a datagram listener appending every line to $LT_SYSLOG.
# Call before it_start (chos-setup binds /dev into the tree).
lt_private_dev() {
    LT_SYSLOG=$IT_BASE/logs/syslog.log
    it_private_dev "$LT_SYSLOG"
}

# The pids registered in any environment of the registry (one per line, none: empty).
lt_registered_pids() {
    local f
    for f in "$REGMNT"/*/cgroup.procs; do
        [ -f "$f" ] && cat "$f"
    done
}

lt_none_registered() { [ -z "$(lt_registered_pids)" ]; }

# Nothing half set up: no process registered anywhere, no mount under the base
# that was not there at LT_MOUNTS_BASELINE time.
lt_assert_clean() { # WHAT
    local what=$1 left
    wait_for 5 lt_none_registered
    left=$(lt_registered_pids | tr '\n' ' ')
    [ -z "$left" ] || it_fail "$what: processes still registered: $left($(for p in $left; do cat /proc/$p/cmdline 2>/dev/null | tr '\0' ' '; echo ';'; done))"
    left=$(diff <(echo "$LT_MOUNTS_BASELINE") <(it_mounts_under "$IT_BASE" | cut -d' ' -f1 | sort) | grep '^[<>]')
    [ -z "$left" ] || it_fail "$what: the mounts changed: $left"
}

lt_mounts_baseline() {
    LT_MOUNTS_BASELINE=$(it_mounts_under "$IT_BASE" | cut -d' ' -f1 | sort)
}

# lt_evil_lib OUT MARKDIR: a shared library that, wherever it is loaded (constructor,
# LD_AUDIT, NSS module "evil", gconv module), creates MARKDIR/<how>.<euid>.<pid>.
# A file whose euid part is 0 means tree or caller code ran as root.
lt_evil_lib() { # OUT MARKDIR
    local out=$1 mark=$2 src=$IT_BASE/cache/evil.c
    cat > "$src" <<EOF
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <nss.h>
#include <pwd.h>
#include <grp.h>
#include <stdint.h>
static void mark(const char *how)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s.%d.%d", "$mark", how, (int)geteuid(), (int)getpid());
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        close(fd);
}
__attribute__((constructor)) static void ctor(void) { mark("ctor"); }
unsigned int la_version(unsigned int v) { mark("audit"); return v; }
enum nss_status _nss_evil_getpwuid_r(uid_t u, struct passwd *p, char *b, size_t l, int *e)
{ mark("nss"); (void)u; (void)p; (void)b; (void)l; (void)e; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_evil_getpwnam_r(const char *n, struct passwd *p, char *b, size_t l, int *e)
{ mark("nss"); (void)n; (void)p; (void)b; (void)l; (void)e; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_evil_getgrnam_r(const char *n, struct group *g, char *b, size_t l, int *e)
{ mark("nss"); (void)n; (void)g; (void)b; (void)l; (void)e; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_evil_getgrgid_r(gid_t i, struct group *g, char *b, size_t l, int *e)
{ mark("nss"); (void)i; (void)g; (void)b; (void)l; (void)e; return NSS_STATUS_NOTFOUND; }
enum nss_status _nss_evil_initgroups_dyn(const char *u, gid_t g, long *s, long *z, gid_t **gs, long l, int *e)
{ mark("nss"); (void)u; (void)g; (void)s; (void)z; (void)gs; (void)l; (void)e; return NSS_STATUS_NOTFOUND; }
int gconv_init(void *s) { mark("gconv"); (void)s; return 1; }
int gconv(void *a, void *b, const unsigned char **c, const unsigned char *d, unsigned char **e, size_t *f, int g, int h)
{ mark("gconv"); (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h; return 1; }
EOF
    cc -shared -fPIC -O0 -o "$out" "$src" || it_fail "cannot build the marker library"
    chmod 0755 "$out"
}

# The marker files of MARKDIR created with euid 0 (one per line).
lt_root_markers() { # MARKDIR
    find "$1" -mindepth 1 \( -name '*.0.*' -o -uid 0 \) -printf '%f\n' 2>/dev/null
}
