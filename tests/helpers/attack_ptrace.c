/* ptrace-race: the user tries to attach to the setuid launcher during its setup
 * (docs/threat-model.md, class A: bubblewrap CVE-2016-8659). */
#include "attack.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* After a successful attach: is the tracee (stopped) privileged, or still the launcher? */
static int ptrace_is_bad(pid_t pid, const char *comm)
{
    char path[64], buf[4096], name[64] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(name, sizeof name, f))
            name[strcspn(name, "\n")] = '\0';
        fclose(f);
    }
    int bad = strcmp(name, comm) == 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return bad;
    while (fgets(buf, sizeof buf, f)) {
        unsigned a, b, c, d;
        unsigned long long cap;
        if ((sscanf(buf, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4 ||
             sscanf(buf, "Gid: %u %u %u %u", &a, &b, &c, &d) == 4) &&
            (a == 0 || b == 0 || c == 0 || d == 0))
            bad = 1;
        if ((sscanf(buf, "CapEff: %llx", &cap) == 1 || sscanf(buf, "CapPrm: %llx", &cap) == 1) && cap)
            bad = 1;
    }
    fclose(f);
    if (bad)
        fprintf(stderr, "ptrace-race: attached to pid %d comm '%s' while privileged or the launcher\n",
                (int)pid, name);
    return bad;
}

int attack_ptrace_race(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ptrace-race N COMM PROG [ARGS...]\n");
        return 2;
    }
    long n = atol(argv[0]);
    const char *comm = argv[1];
    long refused = 0, late = 0, bad = 0, exits = 0;
    for (long i = 0; i < n; ++i) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            attack_die("pipe2");
        pid_t pid = fork();
        if (pid < 0)
            attack_die("fork");
        if (pid == 0) {
            close(p[0]);
            execv(argv[2], argv + 2);
            _exit(127);
        }
        close(p[1]);
        char c;
        /* EOF: the exec closed the write end (close-on-exec). */
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(p[0]);
        int status = 0, done = 0;
        for (long k = 0; !done; ++k) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                done = 1;
                break;
            }
            int seize = k % 2 == 0;
            long r = seize ? ptrace(PTRACE_SEIZE, pid, 0, 0) : ptrace(PTRACE_ATTACH, pid, 0, 0);
            if (r != 0) {
                if (errno == EPERM)
                    ++refused;
                continue;
            }
            /* Attached: stop it (frozen credentials), judge, let go. */
            if (seize)
                ptrace(PTRACE_INTERRUPT, pid, 0, 0);
            for (;;) {
                w = waitpid(pid, &status, __WALL);
                if (w < 0 && errno == EINTR)
                    continue;
                break;
            }
            if (w == pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
                done = 1;
                ++late;
                break;
            }
            if (ptrace_is_bad(pid, comm))
                ++bad;
            else
                ++late;
            ptrace(PTRACE_DETACH, pid, 0, 0);
            /* PTRACE_ATTACH's SIGSTOP may still be pending (the stop we saw was
             * another one): SIGCONT discards it and ends any group stop. */
            kill(pid, SIGCONT);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            done = 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            ++exits;
    }
    printf("refused %ld late %ld bad %ld exits %ld\n", refused, late, bad, exits);
    return 0;
}

