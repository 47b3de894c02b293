/* chos-it-attack: the table of attacks (attack.h), their usage, and what they share. */
#include "attack.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *attack_errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

void attack_die(const char *what)
{
    fprintf(stderr, "chos-it-attack: %s: %s\n", what, strerror(errno));
    exit(2);
}

long attack_num(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s) {
        fprintf(stderr, "chos-it-attack: not a number: '%s'\n", s);
        exit(2);
    }
    return v;
}

uint64_t attack_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void attack_become(uid_t uid, gid_t gid, const gid_t *groups, int n)
{
    if (setgroups((size_t)n, groups) != 0)
        attack_die("setgroups");
    if (setresgid(gid, gid, gid) != 0)
        attack_die("setresgid");
    if (setresuid(uid, uid, uid) != 0)
        attack_die("setresuid");
}

struct attack {
    const char *name;
    const char *args;
    const char *what;
    int (*run)(int argc, char **argv);
};

static const struct attack attacks[] = {
    {"exec0", "PROG [ENV...]",
     "execve(PROG) with an empty argv (argc 0) and exactly ENV as its environment (pkexec CVE-2021-4034)",
     attack_exec0},
    {"ptrace-race", "N COMM PROG [ARGS...]",
     "N times: exec PROG and try PTRACE_SEIZE/PTRACE_ATTACH on it until it exits; prints \"refused R late L bad B "
     "exits E\" (bad: attached while it had a root id or a capability, or its comm was still COMM)",
     attack_ptrace_race},
    {"exchange", "A B SECONDS [HOLD_US GAP_US]",
     "renameat2(RENAME_EXCHANGE) of A and B in a loop; with HOLD/GAP: swap, hold, swap back, wait (short windows "
     "at random points); prints \"swaps S fails F\"",
     attack_exchange},
    {"signal-window", "SIGNAL UID GID REGDIR PROG [ARGS...]",
     "as root, trace PROG (run as UID:GID) and send SIGNAL at each of its syscall stops while it still has a root id "
     "or a capability, one run per stop; after each run check that no process of UID is left and no pid is "
     "registered under REGDIR; prints \"window W signalled S left L registered R\"",
     attack_signal_window},
    {"unusual-caller", "KIND UID GID PROG [ARGS...]",
     "run PROG as UID:GID from a caller state no login gives, set up as root: fake-setresuid (seccomp makes "
     "setresuid succeed without effect), keep-caps (SECBIT_NO_SETUID_FIXUP), keep-caps-no-setuid (the same, "
     "CAP_SETUID out of the bounding set)",
     attack_unusual_caller},
    {"forge-output", "PREFIX REPLACEMENT [PREFIX REPLACEMENT...] -- PROG [ARGS...]",
     "run PROG and ptrace every child of it the caller may trace; a write to fd 1 that starts with PREFIX writes "
     "REPLACEMENT instead (and returns the original length); prints \"forge-output: attached A refused R "
     "rewritten W\" on stderr and exits with PROG's status",
     attack_forge_output},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: chos-it-attack ATTACK ARGS...\n\nattacks:\n");
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; ++i)
        fprintf(to, "  %s %s\n      %s\n", attacks[i].name, attacks[i].args, attacks[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; ++i)
        if (strcmp(argv[1], attacks[i].name) == 0)
            return attacks[i].run(argc - 2, argv + 2);
    fprintf(stderr, "chos-it-attack: unknown attack '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
