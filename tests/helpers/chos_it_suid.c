/* chos-it-suid: prints the effective uid it runs with, and optionally a link target.
 * Installed setuid root by the tests only, on the test's own tmpfs (never on the
 * host's disks): inside an environment tree (mounted nosuid) it must say euid 65534
 * when nobody runs it (docs/threat-model.md, class H); run directly from the tmpfs it says euid 0,
 * which proves the binary itself works. With a PATH: readlink after exec of a
 * setuid binary (class K). Static: it runs inside the busybox trees. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    printf("euid %d ruid %d", (int)geteuid(), (int)getuid());
    if (argc > 1) {
        char buf[PATH_MAX];
        ssize_t n = readlink(argv[1], buf, sizeof buf - 1);
        if (n < 0) {
            const char *e = strerrorname_np(errno);
            printf(" target ERR %s", e ? e : "E?");
        } else {
            buf[n] = '\0';
            printf(" target %s", buf);
        }
    }
    printf("\n");
    return 0;
}
