/* guard_window: the mount guard's window (docs/benchmarks.md W10, docs/threat-model.md
 * class Q), measured from the host's side as an attacker would see it.
 *
 *   guard_window window N STAGING HOST_DIR COPY   -> one line per sample: microseconds
 *   guard_window race N STAGING HOST_DIR COPY UID -> "won W of N"
 *
 * Each sample bind-mounts STAGING (a pre-populated tmpfs without nosuid/nodev, like
 * an automounted export) on HOST_DIR, whose copy inside the CHOS tree is COPY, then:
 *  window: spins on statvfs(COPY) until the copy shows ST_NOSUID and ST_NODEV and
 *          prints the time since mount(2) returned (propagation is done by then);
 *  race:   at once forks a child that drops to UID and execs COPY/suid (the euid probe,
 *          setuid root on STAGING), and counts the runs whose euid was 0 -- an exec
 *          that beat the guard.
 * and unmounts HOST_DIR, waiting for the copy to go before the next sample. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int guarded(const char *copy)
{
    struct statvfs v;
    if (statvfs(copy, &v) != 0)
        return 0;
    return (v.f_flag & ST_NOSUID) && (v.f_flag & ST_NODEV);
}

static void mount_once(const char *staging, const char *dir)
{
    if (mount(staging, dir, NULL, MS_BIND, NULL) != 0) {
        perror("mount");
        exit(1);
    }
}

static void unmount_once(const char *dir, const char *copy, dev_t below)
{
    /* EBUSY while the guard still holds the copy it just changed (an O_PATH fd, for
     * microseconds): try again, as an automounter's expiry would */
    int tries = 0;
    while (umount2(dir, 0) != 0) {
        if (errno != EBUSY || ++tries > 10000) {
            perror("umount");
            exit(1);
        }
        usleep(100);
    }
    /* the copy goes with it (propagation); then let the guard's pass for the unmount
     * event finish, so samples do not overlap */
    struct stat st;
    for (int i = 0; i < 100000; i++)
        if (stat(copy, &st) == 0 && st.st_dev == below)
            break;
    usleep(2000);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: guard_window window|race N STAGING HOST_DIR COPY [UID]\n");
        return 2;
    }
    const int race = strcmp(argv[1], "race") == 0;
    const int n = atoi(argv[2]);
    const char *staging = argv[3], *dir = argv[4], *copy = argv[5];
    const uid_t uid = argc > 6 ? (uid_t)atoi(argv[6]) : 65534;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/suid", copy);
    struct stat st;
    if (stat(copy, &st) != 0) {
        perror(copy);
        return 1;
    }
    const dev_t below = st.st_dev;
    int won = 0;
    for (int i = 0; i < n; i++) {
        mount_once(staging, dir);
        const double t0 = now_us();
        if (!race) {
            long spins = 0;
            while (!guarded(copy)) {
                if (++spins > 50000000L) {
                    fprintf(stderr, "the copy never became nosuid,nodev\n");
                    return 1;
                }
            }
            printf("%.1f\n", now_us() - t0);
        } else {
            int p[2];
            if (pipe(p) != 0)
                return 1;
            const pid_t child = fork();
            if (child == 0) {
                dup2(p[1], 1);
                close(p[0]);
                if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
                    _exit(126);
                execl(probe, "suid", (char *)NULL);
                _exit(127);
            }
            close(p[1]);
            char out[128] = {0};
            ssize_t r = read(p[0], out, sizeof out - 1);
            close(p[0]);
            waitpid(child, NULL, 0);
            if (r > 0 && strncmp(out, "euid 0 ", 7) == 0)
                won++;
        }
        unmount_once(dir, copy, below);
    }
    if (race)
        printf("won %d of %d\n", won, n);
    return 0;
}
