/* exec0: a setuid program started with argc 0 (docs/threat-model.md, class B: pkexec
 * CVE-2021-4034, where argv[1] was envp[0]). */
#include "attack.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int attack_exec0(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: exec0 PROG [ENV...]\n");
        return 2;
    }
    char *empty[] = {NULL};
    /* argv ends at argv[argc]: the rest is the new environment, NULL-terminated */
    execve(argv[0], empty, argv + 1);
    printf("ERR %s\n", attack_errname(errno));
    return 1;
}

