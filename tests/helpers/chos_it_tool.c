/* chos-it-tool: the integration suite's probes, one static binary with subcommands
 * (the table at the end lists them, with their usage: `chos-it-tool help`).
 *
 * Static, so the same file runs on the host and inside the busybox trees (which
 * have no libc). Every subcommand prints what a user would see -- a link target,
 * or "ERR <ERRNO-NAME>" -- so the shell tests can compare exact strings. The
 * attacks (a hostile caller, races against chos-setup) are chos-it-attack's
 * (attack_main.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static void die(const char *what)
{
    fprintf(stderr, "chos-it-tool: %s: %s\n", what, strerror(errno));
    exit(2);
}

static long num(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end) {
        fprintf(stderr, "chos-it-tool: not a number: '%s'\n", s);
        exit(2);
    }
    return v;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* strcpy, truncating to size (size > 0) */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* readlink into buf as "target" or "ERR NAME"; returns 0 on success. */
static int link_text(const char *path, char *buf, size_t size)
{
    char t[PATH_MAX];
    ssize_t n = readlink(path, t, sizeof t - 1);
    if (n < 0) {
        snprintf(buf, size, "ERR %s", errname(errno));
        return -1;
    }
    t[n] = '\0';
    copy_str(buf, size, t);
    return 0;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? errno : 0;
    close(fd);
    return e;
}

static int pid_write(const char *regdir, const char *env, pid_t pid)
{
    char path[PATH_MAX], text[32];
    if (env && strcmp(env, "-") != 0)
        snprintf(path, sizeof path, "%s/%s/cgroup.procs", regdir, env);
    else
        snprintf(path, sizeof path, "%s/cgroup.procs", regdir);
    snprintf(text, sizeof text, "%d\n", (int)pid);
    return write_text(path, text);
}

static void expected_target(const char *env, char *buf, size_t size)
{
    if (!env || strcmp(env, "-") == 0)
        snprintf(buf, size, "../../local");
    else
        snprintf(buf, size, "../os/%s", env);
}

/* ------------------------------------------------------------------ simple */

static int cmd_readlink(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    long count = argc > 1 ? num(argv[1]) : 1;
    int bad = 0;
    for (long i = 0; i < count; ++i) {
        char buf[PATH_MAX + 16];
        if (link_text(argv[0], buf, sizeof buf) != 0)
            bad = 1;
        puts(buf);
    }
    return bad;
}

static int cmd_readlink_exec(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char buf[PATH_MAX + 16];
    link_text(argv[0], buf, sizeof buf);
    printf("before %s\n", buf);
    fflush(stdout);
    execv(argv[1], argv + 1);
    printf("ERR %s\n", errname(errno));
    return 1;
}

/* A non-leader thread reads the link, then execs PROG: the kernel gives it the leader's
 * pid and releases the old leader under the thread's number. */
struct thread_exec {
    char **argv;
};

static void *thread_exec_body(void *arg)
{
    struct thread_exec *te = arg;
    char buf[PATH_MAX + 16];
    link_text(te->argv[0], buf, sizeof buf);
    printf("thread %d of %d target %s\n", (int)gettid(), (int)getpid(), buf);
    fflush(stdout);
    execv(te->argv[1], te->argv + 1);
    printf("ERR %s\n", errname(errno));
    fflush(stdout);
    _exit(1);
}

static int cmd_thread_exec(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct thread_exec te = {argv};
    pthread_t t;
    if (pthread_create(&t, NULL, thread_exec_body, &te) != 0)
        return 1;
    pthread_join(t, NULL); /* never returns: the exec replaces us */
    return 1;
}

static int cmd_whoami(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    char buf[PATH_MAX + 16];
    int r = link_text(argv[0], buf, sizeof buf);
    printf("pid %d ppid %d sid %d tid %d target %s\n", (int)getpid(), (int)getppid(), (int)getsid(0),
           (int)gettid(), buf);
    return r ? 1 : 0;
}

static int cmd_access(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    if (faccessat(AT_FDCWD, argv[0], F_OK, 0) == 0) {
        puts("OK");
        return 0;
    }
    printf("ERR %s\n", errname(errno));
    return 1;
}

static int cmd_open(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    int flags = (argc > 1 && strcmp(argv[1], "rw") == 0) ? O_RDWR : O_RDONLY;
    int fd = open(argv[0], flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        printf("ERR %s\n", errname(errno));
        return 1;
    }
    close(fd);
    puts("OK");
    return 0;
}

static int cmd_write(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int e = write_text(argv[0], argv[1]);
    if (e) {
        printf("ERR %s\n", errname(e));
        return 1;
    }
    puts("OK");
    return 0;
}

static int cmd_mkdir(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    if (mkdir(argv[0], 0755) != 0) {
        printf("ERR %s\n", errname(errno));
        return 1;
    }
    puts("OK");
    return 0;
}

static int cmd_stat(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long count = num(argv[1]);
    struct stat st;
    for (long i = 0; i < count; ++i) {
        if (stat(argv[0], &st) != 0) {
            printf("ERR %s\n", errname(errno));
            return 1;
        }
    }
    printf("OK %ld\n", count);
    return 0;
}

/* ----------------------------------------------------------------- threads */

struct thread_arg {
    const char *path;
    long count;
    int tid;
    long mismatches;
    char first[PATH_MAX + 16];
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    a->tid = (int)gettid();
    for (long i = 0; i < a->count; ++i) {
        char buf[PATH_MAX + 16];
        link_text(a->path, buf, sizeof buf);
        if (i == 0)
            copy_str(a->first, sizeof a->first, buf);
        else if (strcmp(buf, a->first) != 0)
            ++a->mismatches;
    }
    return NULL;
}

static int cmd_threads(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = num(argv[1]), count = num(argv[2]);
    if (n < 1 || n > 8192)
        return 2;
    struct thread_arg *args = calloc((size_t)n + 1, sizeof *args);
    pthread_t *ids = calloc((size_t)n, sizeof *ids);
    if (!args || !ids)
        die("calloc");
    for (long i = 0; i <= n; ++i) {
        args[i].path = argv[0];
        args[i].count = count;
    }
    for (long i = 0; i < n; ++i)
        if ((errno = pthread_create(&ids[i], NULL, thread_main, &args[i])) != 0)
            die("pthread_create");
    thread_main(&args[n]); /* the leader, at the same time */
    for (long i = 0; i < n; ++i)
        pthread_join(ids[i], NULL);
    for (long i = 0; i <= n; ++i)
        printf("thread %ld tid %d leader %d result %s mismatches %ld\n", i, args[i].tid,
               args[i].tid == (int)getpid(), args[i].first, args[i].mismatches);
    return 0;
}

/* --------------------------------------------------------------- forkcheck */

static int cmd_forkcheck(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *path = argv[0], *expect = argv[1];
    long n = num(argv[2]), wrong = 0, errors = 0;
    for (long i = 0; i < n; ++i) {
        pid_t c = fork();
        if (c < 0)
            die("fork");
        if (c == 0) {
            char buf[PATH_MAX + 16];
            if (link_text(path, buf, sizeof buf) != 0)
                _exit(2);
            _exit(strcmp(buf, expect) == 0 ? 0 : 1);
        }
        int st;
        if (waitpid(c, &st, 0) < 0)
            die("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) == 2)
            ++errors;
        else if (WEXITSTATUS(st) == 1)
            ++wrong;
    }
    printf("forks %ld wrong %ld errors %ld\n", n, wrong, errors);
    return wrong || errors ? 1 : 0;
}

/* ------------------------------------------------------------------- probe */

static void first_line_with(const char *file, const char *prefix, char *out, size_t size)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(out, size, "ERR:%s", errname(errno));
        return;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(out, size, "ERR:%s", errname(e));
        return;
    }
    buf[n] = '\0';
    size_t plen = strlen(prefix);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, prefix, plen) == 0) {
            copy_str(out, size, line);
            return;
        }
        line = nl ? nl + 1 : NULL;
    }
    snprintf(out, size, "ERR:no-%s", prefix);
}

static int cmd_probe(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long interval = num(argv[2]), count = num(argv[3]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long seq = 0; count == 0 || seq < count; ++seq) {
        char target[PATH_MAX + 16], name[512];
        if (link_text(argv[0], target, sizeof target) != 0)
            target[3] = ':'; /* "ERR X" -> "ERR:X": one field */
        first_line_with(argv[1], "NAME=", name, sizeof name);
        printf("%ld %s %s\n", seq, target, name);
        sleep_ms(interval);
    }
    return 0;
}

/* --------------------------------------------------------------------- ctl */

static int cmd_ctl(int argc, char **argv, char **full_argv)
{
    if (argc < 2)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        char buf[PATH_MAX + 16];
        switch (line[0]) {
        case 'r':
            link_text(argv[0], buf, sizeof buf);
            puts(buf);
            break;
        case 'f':
            if (faccessat(AT_FDCWD, argv[1], F_OK, 0) == 0)
                puts("OK");
            else
                printf("ERR %s\n", errname(errno));
            break;
        case 'p':
            printf("%d\n", (int)getpid());
            break;
        case 'e':
            /* exec keeps the pid: the registration may have changed meanwhile */
            fflush(stdout);
            execv("/proc/self/exe", full_argv);
            printf("ERR %s\n", errname(errno));
            break;
        case 'q':
            return 0;
        default:
            puts("ERR EINVAL");
        }
    }
    return 0;
}

/* ------------------------------------------------------------------- cycle */

static int cmd_cycle(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *regdir = argv[0], *link = argv[1];
    long n = num(argv[2]);
    char **envs = argv + 3;
    int nenv = argc - 3;
    long wrong = 0, errors = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; ++i) {
        const char *env = envs[i % nenv];
        pid_t c = fork();
        if (c < 0)
            die("fork");
        if (c == 0) {
            if (pid_write(regdir, env, getpid()) != 0)
                _exit(3);
            char buf[PATH_MAX + 16], want[PATH_MAX];
            expected_target(env, want, sizeof want);
            if (link_text(link, buf, sizeof buf) != 0)
                _exit(2);
            if (strcmp(buf, want) != 0) {
                fprintf(stderr, "cycle: pid %d registered in %s got '%s'\n", (int)getpid(), env, buf);
                _exit(1);
            }
            _exit(0);
        }
        int st;
        if (waitpid(c, &st, 0) < 0)
            die("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) >= 2)
            ++errors;
        else if (WEXITSTATUS(st) == 1)
            ++wrong;
    }
    double s = (double)(now_ns() - t0) / 1e9;
    printf("cycles %ld wrong %ld errors %ld seconds %.2f\n", n, wrong, errors, s);
    return wrong || errors ? 1 : 0;
}

/* ------------------------------------------------------------------- reuse */

struct spin_arg {
    const char *link;
    int report_fd;
};

static void *spin_thread(void *p)
{
    struct spin_arg *a = p;
    int tid = (int)gettid();
    if (write(a->report_fd, &tid, sizeof tid) != (ssize_t)sizeof tid)
        _exit(4);
    for (;;) {
        char buf[PATH_MAX];
        if (readlink(a->link, buf, sizeof buf) < 0)
            continue;
    }
    return NULL;
}

static void *one_readlink_thread(void *p)
{
    struct spin_arg *a = p;
    char buf[PATH_MAX + 16];
    int tid = (int)gettid();
    link_text(a->link, buf, sizeof buf);
    if (write(a->report_fd, &tid, sizeof tid) != (ssize_t)sizeof tid)
        _exit(4);
    size_t len = strlen(buf) + 1;
    if (write(a->report_fd, buf, len) != (ssize_t)len)
        _exit(4);
    return NULL;
}

static volatile sig_atomic_t midreq_reported;

/* One readlink (so the answer is cached under this thread's tid), reported; then
 * readlinks back to back until exit_group cuts one short. */
static void *midreq_thread(void *p)
{
    one_readlink_thread(p);
    midreq_reported = 1;
    for (;;) {
        char buf[PATH_MAX];
        if (readlink(((struct spin_arg *)p)->link, buf, sizeof buf) < 0)
            continue;
    }
    return NULL;
}

static int set_last_pid(pid_t last)
{
    char text[32];
    snprintf(text, sizeof text, "%d", (int)last);
    return write_text("/proc/sys/kernel/ns_last_pid", text);
}

/* Fork a child that must get pid `want`; it registers in env2 (or stays
 * unregistered) and readlinks. Returns 0 ok, 1 wrong answer, 2 error, 3 pid not reused. */
static int reuse_as(pid_t want, const char *regdir, const char *link, const char *env2, char *got, size_t size)
{
    for (int tries = 0; tries < 50; ++tries) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            die("pipe2");
        if (set_last_pid(want - 1) != 0)
            die("ns_last_pid");
        pid_t c = fork();
        if (c < 0)
            die("fork");
        if (c == 0) {
            close(fds[0]);
            if (getpid() != want)
                _exit(3);
            if (env2 && pid_write(regdir, env2, getpid()) != 0)
                _exit(2);
            char buf[PATH_MAX + 16];
            link_text(link, buf, sizeof buf);
            if (write(fds[1], buf, strlen(buf) + 1) < 0)
                _exit(2);
            _exit(0);
        }
        close(fds[1]);
        char buf[PATH_MAX + 16] = "";
        ssize_t n = read(fds[0], buf, sizeof buf - 1);
        close(fds[0]);
        int st;
        waitpid(c, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
            continue; /* somebody else took the number; try again */
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n <= 0)
            return 2;
        buf[n] = '\0';
        copy_str(got, size, buf);
        char want_t[PATH_MAX];
        expected_target(env2, want_t, sizeof want_t);
        return strcmp(buf, want_t) == 0 ? 0 : 1;
    }
    return 3;
}

static int cmd_reuse(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const char *regdir = argv[0], *link = argv[1], *env = argv[2], *mode = argv[4];
    const char *env2 = argc > 5 ? argv[5] : NULL;
    long n = num(argv[3]);
    long reused = 0, wrong = 0, errors = 0, first_wrong = 0, not_reused = 0;
    char want_a[PATH_MAX];
    expected_target(env, want_a, sizeof want_a);
    /* Ourselves: explicitly unregistered, so children inherit nothing. */
    if (pid_write(regdir, "-", getpid()) != 0)
        die("unregister self");
    srand((unsigned)getpid());
    for (long i = 0; i < n; ++i) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            die("pipe2");
        pid_t a = fork();
        if (a < 0)
            die("fork");
        if (a == 0) {
            close(fds[0]);
            if (pid_write(regdir, env, getpid()) != 0)
                _exit(3);
            struct spin_arg sa = {link, fds[1]};
            pthread_t t;
            if (strcmp(mode, "midreq") == 0) {
                /* a thread reads once (cached under its tid), reports, and keeps a
                 * readlink in flight; exit_group cuts it at a random moment */
                if (pthread_create(&t, NULL, midreq_thread, &sa) != 0)
                    _exit(3);
                while (!midreq_reported)
                    sched_yield();
                struct timespec ts = {0, (rand() % 300) * 1000L};
                nanosleep(&ts, NULL);
                _exit(0);
            }
            if (strcmp(mode, "thread") == 0) {
                /* a non-leader thread reads (and may be cached under its tid),
                 * then exits while the process lives on */
                if (pthread_create(&t, NULL, one_readlink_thread, &sa) != 0)
                    _exit(3);
                pthread_join(t, NULL);
                pause(); /* alive while the parent reuses the tid; killed then */
                _exit(0);
            }
            char buf[PATH_MAX + 16];
            link_text(link, buf, sizeof buf);
            int tid = (int)getpid();
            if (write(fds[1], &tid, sizeof tid) < 0 || write(fds[1], buf, strlen(buf) + 1) < 0)
                _exit(3);
            _exit(0);
        }
        close(fds[1]);
        int tid = 0;
        char abuf[PATH_MAX + 16] = "";
        if (read(fds[0], &tid, sizeof tid) != (ssize_t)sizeof tid) {
            ++errors;
            close(fds[0]);
            kill(a, SIGKILL);
            waitpid(a, NULL, 0);
            continue;
        }
        ssize_t k = read(fds[0], abuf, sizeof abuf - 1);
        abuf[k > 0 ? k : 0] = '\0';
        if (strcmp(abuf, want_a) != 0) {
            fprintf(stderr, "reuse: registered process %d (tid %d) in %s got '%s' (want '%s')\n", (int)a, tid, env,
                    abuf, want_a);
            ++wrong;
        }
        close(fds[0]);
        /* The number the cache may hold: the leader's (plain), else the tid of the
         * thread that made the request. */
        pid_t victim = strcmp(mode, "plain") == 0 ? a : (pid_t)tid;
        if (strcmp(mode, "thread") != 0) {
            int st;
            waitpid(a, &st, 0);
        }
        /* `a` (or its thread) is gone: its number is free. */
        char got[PATH_MAX + 16] = "";
        int r = reuse_as(victim, regdir, link, env2, got, sizeof got);
        if (strcmp(mode, "thread") == 0) {
            kill(a, SIGKILL);
            waitpid(a, NULL, 0);
        }
        if (r == 3) {
            ++not_reused;
            continue;
        }
        ++reused;
        if (r == 1) {
            ++wrong;
            if (!first_wrong++)
                fprintf(stderr, "reuse: new process with reused pid %d got '%s' (previous owner was in %s)\n",
                        (int)victim, got, env);
        } else if (r == 2) {
            ++errors;
        }
    }
    printf("reuse %s iterations %ld reused %ld not_reused %ld wrong %ld errors %ld\n", mode, n, reused, not_reused,
           wrong, errors);
    return (wrong || errors || reused == 0) ? 1 : 0;
}

/* ------------------------------------------------------------------- flood */

static int cmd_flood(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *link = argv[0], *expect = argv[2];
    uint64_t end = now_ns() + (uint64_t)num(argv[1]) * 1000000000ULL;
    long calls = 0, wrong = 0, errors = 0;
    while (now_ns() < end) {
        char buf[PATH_MAX + 16];
        if (link_text(link, buf, sizeof buf) != 0)
            ++errors;
        else if (strcmp(buf, expect) != 0)
            ++wrong;
        ++calls;
    }
    printf("calls %ld wrong %ld errors %ld\n", calls, wrong, errors);
    return wrong ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_latency(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *link = argv[0], *expect = argv[3];
    long n = num(argv[1]), interval = num(argv[2]), wrong = 0, errors = 0;
    if (n < 1)
        return 2;
    uint64_t *lat = calloc((size_t)n, sizeof *lat);
    if (!lat)
        die("calloc");
    for (long i = 0; i < n; ++i) {
        char buf[PATH_MAX + 16];
        uint64_t t0 = now_ns();
        int r = link_text(link, buf, sizeof buf);
        lat[i] = now_ns() - t0;
        if (r != 0)
            ++errors;
        else if (strcmp(buf, expect) != 0)
            ++wrong;
        sleep_ms(interval);
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
    long p99 = (n * 99 + 99) / 100 - 1;
    printf("n %ld p50_us %llu p99_us %llu max_us %llu wrong %ld errors %ld\n", n,
           (unsigned long long)(lat[n / 2] / 1000), (unsigned long long)(lat[p99] / 1000),
           (unsigned long long)(lat[n - 1] / 1000), wrong, errors);
    free(lat);
    return wrong || errors ? 1 : 0;
}

/* ----------------------------------------------------------------- midexit */

static int cmd_midexit(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long n = num(argv[1]);
    srand((unsigned)getpid());
    for (long i = 0; i < n; ++i) {
        pid_t c = fork();
        if (c < 0)
            die("fork");
        if (c == 0) {
            int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
            struct spin_arg sa = {argv[0], devnull};
            pthread_t t[3];
            for (int k = 0; k < 3; ++k)
                if (pthread_create(&t[k], NULL, spin_thread, &sa) != 0)
                    _exit(3);
            struct timespec ts = {0, (rand() % 500) * 1000L};
            nanosleep(&ts, NULL);
            _exit(0);
        }
        waitpid(c, NULL, 0);
    }
    printf("midexit %ld\n", n);
    return 0;
}

/* ---------------------------------------------------------------- try-root */

/* What a dropped process gets when it asks for root back. */
static int cmd_try_root(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gid_t none[1] = {0};
    int u = setuid(0) == 0 ? 0 : errno;
    int g = setgid(0) == 0 ? 0 : errno;
    int s = setgroups(1, none) == 0 ? 0 : errno;
    printf("setuid %s setgid %s setgroups %s\n", u ? errname(u) : "OK", g ? errname(g) : "OK",
           s ? errname(s) : "OK");
    return u && g && s ? 0 : 1;
}

/* --------------------------------------------------------------------- fds */

/* Writes "N closed" or "N <type> <major>:<minor> <access>" for fds 0-2 of this
 * process into FILE (opened above them, so nothing of the report touches 0-2). */
static int cmd_fds(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    int out = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        die("open FILE");
    if (out <= 2) { /* a closed 0-2 took it: move it up, the slot stays closed */
        int up = fcntl(out, F_DUPFD_CLOEXEC, 3);
        close(out);
        out = up;
    }
    char line[128];
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st;
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fstat(fd, &st) != 0) {
            snprintf(line, sizeof line, "%d closed\n", fd);
        } else {
            const char *type = S_ISCHR(st.st_mode) ? "chr" : S_ISREG(st.st_mode) ? "reg" : S_ISFIFO(st.st_mode) ? "fifo"
                               : S_ISSOCK(st.st_mode) ? "sock" : "other";
            const char *access = (flags & O_ACCMODE) == O_RDONLY ? "r" : (flags & O_ACCMODE) == O_WRONLY ? "w" : "rw";
            snprintf(line, sizeof line, "%d %s %u:%u %s\n", fd, type, major(st.st_rdev), minor(st.st_rdev), access);
        }
        if (write(out, line, strlen(line)) < 0)
            die("write");
    }
    close(out);
    return 0;
}

/* --------------------------------------------------------------- exec-with */

static int signal_number(const char *name)
{
    for (int sig = 1; sig < NSIG; ++sig) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcmp(abbrev, name) == 0)
            return sig;
    }
    return (int)num(name);
}

/* Calls f(value) for each comma-separated item of list. */
static void each_item(const char *list, void (*f)(const char *item, void *arg), void *arg)
{
    char copy[256];
    copy_str(copy, sizeof copy, list);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
        f(item, arg);
}

static void add_signal(const char *item, void *set)
{
    sigaddset(set, signal_number(item));
}

static void ignore_signal(const char *item, void *unused)
{
    (void)unused;
    if (signal(signal_number(item), SIG_IGN) == SIG_ERR)
        die("signal");
}

static void close_fd(const char *item, void *unused)
{
    (void)unused;
    close((int)num(item));
}

static int cmd_exec_with(int argc, char **argv)
{
    int i = 0;
    sigset_t block;
    sigemptyset(&block);
    for (; i < argc && strcmp(argv[i], "--") != 0; ++i) {
        const char *a = argv[i];
        if (strncmp(a, "umask=", 6) == 0)
            umask((mode_t)strtol(a + 6, NULL, 8));
        else if (strncmp(a, "block=", 6) == 0)
            each_item(a + 6, add_signal, &block);
        else if (strncmp(a, "ignore=", 7) == 0)
            each_item(a + 7, ignore_signal, NULL);
        else if (strncmp(a, "close=", 6) != 0) {
            fprintf(stderr, "chos-it-tool: exec-with: unknown setting '%s'\n", a);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "chos-it-tool: exec-with: no program after --\n");
        return 2;
    }
    if (sigprocmask(SIG_BLOCK, &block, NULL) != 0)
        die("sigprocmask");
    /* Last: after this the messages above could not be written. */
    for (int k = 0; k < i; ++k)
        if (strncmp(argv[k], "close=", 6) == 0)
            each_item(argv[k] + 6, close_fd, NULL);
    execv(argv[i + 1], argv + i + 1);
    return 127;
}

/* ------------------------------------------------------------------- table */

struct command {
    const char *name;
    const char *args;
    const char *what;
    int (*run)(int argc, char **argv, char **full_argv);
};

#define PLAIN(f)                                                                                                    \
    static int f##_any(int argc, char **argv, char **full_argv)                                                    \
    {                                                                                                               \
        (void)full_argv;                                                                                            \
        return f(argc, argv);                                                                                       \
    }
PLAIN(cmd_readlink)
PLAIN(cmd_readlink_exec)
PLAIN(cmd_thread_exec)
PLAIN(cmd_whoami)
PLAIN(cmd_access)
PLAIN(cmd_open)
PLAIN(cmd_write)
PLAIN(cmd_mkdir)
PLAIN(cmd_stat)
PLAIN(cmd_threads)
PLAIN(cmd_forkcheck)
PLAIN(cmd_probe)
PLAIN(cmd_cycle)
PLAIN(cmd_reuse)
PLAIN(cmd_flood)
PLAIN(cmd_latency)
PLAIN(cmd_midexit)
PLAIN(cmd_exec_with)
PLAIN(cmd_try_root)
PLAIN(cmd_fds)

static const struct command commands[] = {
    {"readlink", "PATH [COUNT]", "readlink COUNT times in this one process", cmd_readlink_any},
    {"readlink-exec", "PATH PROG [ARGS...]",
     "readlink (printed as \"before TARGET\"), then exec PROG in the same process (same pid)",
     cmd_readlink_exec_any},
    {"thread-exec", "PATH PROG [ARGS...]",
     "a non-leader thread readlinks (printed as \"thread TID of PID target TARGET\"), then execs PROG",
     cmd_thread_exec_any},
    {"whoami", "PATH", "\"pid P ppid Q sid S tid T target X\"", cmd_whoami_any},
    {"access", "PATH", "faccessat(F_OK): \"OK\" or \"ERR ENOENT\" (the flush lookup)", cmd_access_any},
    {"open", "PATH [ro|rw]", "open(2): \"OK\" or \"ERR EACCES\"", cmd_open_any},
    {"write", "PATH TEXT", "open O_WRONLY + write: \"OK\" or \"ERR EACCES\"", cmd_write_any},
    {"mkdir", "PATH", "\"OK\" or \"ERR ...\"", cmd_mkdir_any},
    {"stat", "PATH COUNT", "COUNT stat(2) calls: \"OK n\" or the first \"ERR ...\"", cmd_stat_any},
    {"threads", "PATH NTHREADS COUNT", "readlink from non-leader threads and the leader, at once", cmd_threads_any},
    {"forkcheck", "PATH EXPECT N", "N times: fork, the child readlinks and compares", cmd_forkcheck_any},
    {"probe", "LINK FILE INTERVAL_MS N",
     "a long-running process inside an environment: \"<seq> <target|ERR:X> <NAME|ERR:X>\" every interval",
     cmd_probe_any},
    {"ctl", "LINK FLUSH",
     "commands on stdin: r (readlink), f (flush lookup), e (re-exec itself: exec keeps the pid), p (pid), q",
     cmd_ctl},
    {"cycle", "REGDIR LINK N ENV...",
     "N times: fork, the child registers itself in ENV[i % k], readlinks, compares, exits", cmd_cycle_any},
    {"reuse", "REGDIR LINK ENV N MODE [ENV2]",
     "number reuse (own pid namespace, /proc/sys/kernel/ns_last_pid): a process in ENV reads the link, goes, and "
     "a new process (in ENV2, else unregistered) takes its number -- MODE plain: the pid; thread: the tid of a "
     "thread that read and exited; midreq: the tid of a thread whose readlink was in flight when the process "
     "exited",
     cmd_reuse_any},
    {"flood", "LINK SECONDS EXPECT", "readlink as fast as possible", cmd_flood_any},
    {"latency", "LINK N INTERVAL_MS EXPECT", "readlink latency percentiles", cmd_latency_any},
    {"midexit", "LINK N", "children whose readlink threads are cut by exit_group", cmd_midexit_any},
    {"fds", "FILE", "what fds 0-2 are, into FILE: \"N closed\" or \"N chr|reg|fifo|sock MAJOR:MINOR r|w|rw\"",
     cmd_fds_any},
    {"try-root", "", "setuid(0), setgid(0), setgroups({0}): \"setuid E setgid E setgroups E\" (OK or the errno)",
     cmd_try_root_any},
    {"exec-with", "[umask=OOO] [block=SIG,...] [ignore=SIG,...] [close=FD,...] -- PROG [ARGS...]",
     "exec PROG from this process state (what a caller may hand the launcher)", cmd_exec_with_any},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: chos-it-tool COMMAND ARGS...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        fprintf(to, "  %s %s\n      %s\n", commands[i].name, commands[i].args, commands[i].what);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2, argv);
    fprintf(stderr, "chos-it-tool: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
