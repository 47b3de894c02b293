/* W7 fork/inheritance storm (docs/benchmarks.md): P worker processes, each registered in
 * its own environment, fork children that read the per-process link and compare it
 * with the worker's environment. Prints the number of checks, wrong answers, errors
 * and the rate. Also runs natively (NATIVE mode: the link is a plain symlink) for the
 * side-by-side ratio.
 *
 *   fork_storm LINK REGDIR TOTAL P ENV...     (REGDIR "-": no registration, expect
 *                                              the literal target given as ENV)
 * An ENV of the form NAME@NSFILE (backend namespace): the worker also enters the mount
 * namespace NSFILE (e.g. /proc/<chos-nsd>/fd/<n>) before it forks, as the launcher does;
 * its children read LINK there and must see ../os/NAME.
 * Static build: cc -O2 -static -o fork_storm fork_storm.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"

static int register_self(const char *regdir, const char *env)
{
    char path[PATH_MAX], text[32];
    snprintf(path, sizeof path, "%s/%s/cgroup.procs", regdir, env);
    snprintf(text, sizeof text, "%d\n", (int)getpid());
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: fork_storm LINK REGDIR TOTAL P ENV...\n");
        return 2;
    }
    const char *link = argv[1], *regdir = argv[2];
    long total = atol(argv[3]), workers = atol(argv[4]);
    char **envs = argv + 5;
    int nenv = argc - 5;
    if (total < 1 || workers < 1)
        return 2;
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    long long t0 = now_ns();
    for (long w = 0; w < workers; ++w) {
        pid_t p = fork();
        if (p < 0)
            return 2;
        if (p)
            continue;
        close(fds[0]);
        char env[256], want[PATH_MAX];
        snprintf(env, sizeof env, "%s", envs[w % nenv]);
        char *at = strchr(env, '@');
        if (at != NULL) {
            *at = '\0';
            int ns = open(at + 1, O_RDONLY | O_CLOEXEC);
            if (ns < 0 || setns(ns, CLONE_NEWNS) != 0 || chdir("/") != 0)
                _exit(3);
            close(ns);
        }
        if (strcmp(regdir, "-") == 0) {
            snprintf(want, sizeof want, "%s", env);
        } else {
            if (register_self(regdir, env) != 0)
                _exit(3);
            snprintf(want, sizeof want, "../os/%s", env);
        }
        long n = total / workers + (w < total % workers ? 1 : 0), wrong = 0, errors = 0;
        for (long i = 0; i < n; ++i) {
            pid_t c = fork();
            if (c < 0) {
                ++errors;
                continue;
            }
            if (c == 0) {
                char buf[PATH_MAX];
                ssize_t k = readlink(link, buf, sizeof buf - 1);
                if (k < 0)
                    _exit(2);
                buf[k] = '\0';
                _exit(strcmp(buf, want) == 0 ? 0 : 1);
            }
            int st;
            if (waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 2)
                ++errors;
            else if (WEXITSTATUS(st) == 1)
                ++wrong;
        }
        long rec[3] = {n, wrong, errors};
        if (write(fds[1], rec, sizeof rec) != (ssize_t)sizeof rec)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    long checks = 0, wrong = 0, errors = 0, rec[3];
    while (read(fds[0], rec, sizeof rec) == (ssize_t)sizeof rec) {
        checks += rec[0];
        wrong += rec[1];
        errors += rec[2];
    }
    int failed_workers = 0, st;
    while (wait(&st) > 0)
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            ++failed_workers;
    double s = (double)(now_ns() - t0) / 1e9;
    printf("checks %ld wrong %ld errors %ld workers_failed %d seconds %.3f rate %.0f\n", checks, wrong, errors,
           failed_workers, s, (double)checks / s);
    return wrong || errors || failed_workers ? 1 : 0;
}
