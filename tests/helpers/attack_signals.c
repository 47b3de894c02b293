/* signal-window: SIGINT, SIGTERM or SIGKILL aimed at every point of the launcher's
 * privileged window (docs/threat-model.md, class O: schroot's release checks).
 *
 * Random delays mostly land after the window (the setup takes about a millisecond);
 * here root traces the launcher (run as the user: a root tracer keeps the setuid bit
 * working) and stops it at each of its syscall stops in turn, one run per stop, as
 * long as it still has a root id or a capability; there it sends the signal and lets
 * go. After each run: every signalled run must have died of the signal, no process
 * of the user may be left (the launcher's helpers included), and no pid may be
 * registered in REGDIR's environments (a cgroup v1 registry: REGDIR/<env>/cgroup.procs). */
#include "attack.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { max_runs = 4000 };

/* Does PID still hold root: a 0 among its uids, or a capability? */
static int privileged(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int root = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned a, b, c, d;
        unsigned long long cap;
        if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4 && (a == 0 || b == 0 || c == 0 || d == 0))
            root = 1;
        if ((sscanf(line, "CapEff: %llx", &cap) == 1 || sscanf(line, "CapPrm: %llx", &cap) == 1) && cap)
            root = 1;
    }
    fclose(f);
    return root;
}

/* Live (not zombie) processes whose real uid is UID. */
static int processes_of(uid_t uid)
{
    DIR *d = opendir("/proc");
    if (!d)
        attack_die("opendir /proc");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int zombie = 0, mine = 0;
        while (fgets(line, sizeof line, f)) {
            unsigned r;
            char state;
            if (sscanf(line, "State: %c", &state) == 1 && (state == 'Z' || state == 'X'))
                zombie = 1;
            if (sscanf(line, "Uid: %u", &r) == 1 && r == uid)
                mine = 1;
        }
        fclose(f);
        n += mine && !zombie;
    }
    closedir(d);
    return n;
}

/* Pids listed in REGDIR/<env>/cgroup.procs, over every environment. */
static int registered(const char *regdir)
{
    DIR *d = opendir(regdir);
    if (!d)
        attack_die("opendir REGDIR");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/cgroup.procs", regdir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int pid;
        while (fscanf(f, "%d", &pid) == 1) {
            fprintf(stderr, "signal-window: pid %d left registered in '%s'\n", pid, e->d_name);
            ++n;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One run, signalled at syscall stop number `at` (counted from the exec on). Returns
 * 1 when that stop was inside the privileged window and the signal was sent, 0 when
 * the window (or the whole run) ended first. *status: how the run ended. */
static int one_run(int sig, uid_t uid, gid_t gid, char **argv, long at, int *status)
{
    pid_t pid = fork();
    if (pid < 0)
        attack_die("fork");
    if (pid == 0) {
        /* Traced before the drop: the kernel keeps the credentials the tracing began
         * with (root's), and only a capable tracer keeps the setuid bit working. */
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(126);
        attack_become(uid, gid, &gid, 1);
        /* A user at a terminal: every signal at its default (a test harness may
         * have left some ignored, which would make them vanish before the
         * launcher's first step resets them). */
        for (int s = 1; s < NSIG; ++s)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        raise(SIGSTOP);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st))
        attack_die("the traced child did not stop");
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) != 0)
        attack_die("PTRACE_SETOPTIONS");
    int exec_seen = 0, sent = 0, detached = 0;
    long stops = 0;
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) != 0)
        attack_die("PTRACE_SYSCALL");
    for (;;) {
        if (waitpid(pid, &st, detached ? 0 : __WALL) < 0) {
            if (errno == EINTR)
                continue;
            attack_die("waitpid");
        }
        if (WIFEXITED(st) || WIFSIGNALED(st))
            break;
        if (detached || !WIFSTOPPED(st))
            continue;
        int inject = 0;
        if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
            if (exec_seen && stops++ == at) {
                if (privileged(pid)) {
                    kill(pid, sig);
                    sent = 1;
                }
                /* Either way let it go: signalled, it dies; past the window, it runs
                 * to its end untraced. */
                ptrace(PTRACE_DETACH, pid, 0, 0);
                detached = 1;
                continue;
            }
        } else if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
            exec_seen = 1;
        } else {
            inject = WSTOPSIG(st); /* a signal of its own: deliver it */
        }
        if (ptrace(PTRACE_SYSCALL, pid, 0, inject) != 0 && errno != ESRCH)
            attack_die("PTRACE_SYSCALL");
    }
    *status = st;
    return sent;
}

int attack_signal_window(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: signal-window SIGNAL UID GID REGDIR PROG [ARGS...]\n");
        return 2;
    }
    const int sig = (int)attack_num(argv[0]);
    const uid_t uid = (uid_t)attack_num(argv[1]);
    const gid_t gid = (gid_t)attack_num(argv[2]);
    const char *regdir = argv[3];
    long signalled = 0, survived = 0, left = 0, reg = 0, at;
    for (at = 0; at < max_runs; ++at) {
        int st = 0;
        if (!one_run(sig, uid, gid, argv + 4, at, &st))
            break; /* stop `at` is past the window: every stop before it was covered */
        ++signalled;
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == sig)) {
            ++survived;
            fprintf(stderr, "signal-window: signalled at stop %ld, the run ended with status 0x%x\n", at, st);
        }
        int n = 0;
        for (int tries = 0; tries < 40 && (n = processes_of(uid)) != 0; ++tries)
            sleep_ms(50);
        if (n) {
            fprintf(stderr, "signal-window: %d process(es) of uid %u left after stop %ld\n", n, (unsigned)uid, at);
            left += n;
        }
        reg += registered(regdir);
    }
    printf("window %ld signalled %ld survived %ld left %ld registered %ld\n", at, signalled, survived, left, reg);
    return at == max_runs ? 1 : 0;
}
