/* unusual-caller: a caller state no login gives, set up by root before it becomes the
 * user, so that the launcher's verification of its own privilege drop has something
 * to catch (docs/threat-model.md, class A: bubblewrap CVE-2020-5291, Apptainer
 * CVE-2023-38496 -- a drop that is not checked can fail unnoticed):
 *   fake-setresuid       a seccomp filter (installed by root, so the setuid bit still
 *                        works) makes setresuid(2) return 0 without doing anything:
 *                        the launcher's ids stay root's;
 *   keep-caps            SECBIT_NO_SETUID_FIXUP: changing the uid keeps the
 *                        capabilities, so root (setuid(0)) stays within reach;
 *   keep-caps-no-setuid  the same with CAP_SETUID out of the bounding set: setuid(0)
 *                        fails, but capabilities remain (give GID 0, so that
 *                        setgid(0) is not tried either).
 * The caller itself ends with no capability and all its ids UID/GID. */
#include "attack.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <stddef.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fake_setresuid(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setresuid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0), /* "success", nothing done */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        attack_die("PR_SET_SECCOMP");
}

static void no_capabilities(void)
{
    struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &head, data) != 0)
        attack_die("capset");
}

int attack_unusual_caller(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: unusual-caller fake-setresuid|keep-caps|keep-caps-no-setuid UID GID PROG [ARGS...]\n");
        return 2;
    }
    const char *kind = argv[0];
    const uid_t uid = (uid_t)attack_num(argv[1]);
    const gid_t gid = (gid_t)attack_num(argv[2]);
    if (strcmp(kind, "fake-setresuid") == 0) {
        fake_setresuid();
        /* setresuid is a no-op now: become the user with setreuid (the saved uid
         * follows the effective one when the real one is set). */
        if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setreuid(uid, uid) != 0)
            attack_die("dropping to the user");
        uid_t r, e, s;
        if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid)
            attack_die("the caller's own drop");
    } else if (strcmp(kind, "keep-caps") == 0 || strcmp(kind, "keep-caps-no-setuid") == 0) {
        if (strcmp(kind, "keep-caps-no-setuid") == 0 && prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0) != 0)
            attack_die("PR_CAPBSET_DROP");
        if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) != 0)
            attack_die("PR_SET_SECUREBITS");
        attack_become(uid, gid, &gid, 1);
        no_capabilities();
    } else {
        fprintf(stderr, "chos-it-attack: unusual-caller: unknown kind '%s'\n", kind);
        return 2;
    }
    execv(argv[3], argv + 3);
    printf("ERR %s\n", attack_errname(errno));
    return 1;
}
