/*
 * chos-kmod-probe: the kmod suite's probes, run inside the qemu guest (static).
 * Each command exits 0 when what it checks holds and prints one line saying
 * what it saw otherwise; guest.sh turns that into PASS/FAIL lines.
 *
 *   setlink TARGET [CMD ARGS...]   set the own link, then exec CMD
 *   readlink-is EXPECT             /proc/chos/link answers EXPECT
 *   expect-setlink ERRNO SPEC      a setlink write fails with ERRNO
 *   expect-valid ERRNO SPEC        a valid write fails with ERRNO
 *                 SPEC: a literal, or @big @nul @empty @relative @unterminated
 *   runas UID CMD ARGS...          drop to UID (gid = UID, no groups), exec
 *   fdpass UID TARGET              setlink opened as root, written after the drop: EPERM
 *   inherit EXPECT                 fork, exec, thread, setsid, orphan keep EXPECT (P2)
 *   p1 TA TB N                     two processes, two links at once, N checks each
 *   pidns EXPECT                   pid 1 of a new pid namespace reads its own link
 *   reuse TARGET DEFAULT           a reused pid does not inherit a dead task's link
 *   storm MODE TOTAL P ARGS...     W7: MODE kmod (ARGS targets) or native (ARGS dir)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINK "/proc/chos/link"
#define SETLINK "/proc/chos/setlink"
#define VALID "/proc/chos/valid"

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	default: return strerror(e);
	}
}

/* errno of one write of buf to path (0 on success). */
static int write_errno(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, buf, len) < 0)
		e = errno;
	close(fd);
	return e;
}

static int read_link(char *buf, size_t size)
{
	ssize_t n = readlink(LINK, buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int link_is(const char *expect)
{
	char buf[PATH_MAX];

	return read_link(buf, sizeof buf) == 0 && strcmp(buf, expect) == 0;
}

/* Build the bytes a SPEC stands for into buf; returns the length. */
static size_t spec_bytes(const char *spec, char *buf, size_t size)
{
	size_t n;

	if (!strcmp(spec, "@big")) {
		n = size - 1;
		memset(buf, 'a', n);
		buf[0] = '/';
		buf[n - 1] = '\n';
		return n;
	}
	if (!strcmp(spec, "@nul"))
		return (memcpy(buf, "/chos\0/x\n", 9), 9);
	if (!strcmp(spec, "@empty"))
		return 0;
	if (!strcmp(spec, "@relative"))
		return (memcpy(buf, "chos/.chos/os/a\n", 16), 16);
	if (!strcmp(spec, "@unterminated"))
		return (memcpy(buf, "/chos/local", 11), 11);
	n = strlen(spec);
	memcpy(buf, spec, n);
	return n;
}

static int expect_write(const char *path, const char *want, const char *spec)
{
	static char buf[512 * 1024];
	size_t size = !strcmp(spec, "@big") ? sizeof buf : 8192;
	size_t n = spec_bytes(spec, buf, size);
	int e = write_errno(path, buf, n);

	if (strcmp(errno_name(e), want) != 0) {
		printf("write of %s to %s: got %s, expected %s\n", spec, path, errno_name(e), want);
		return 1;
	}
	return 0;
}

static int drop_to(uid_t uid)
{
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		printf("cannot drop to %d: %s\n", (int)uid, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- P2 */

static const char *thread_expect;

static void *thread_check(void *arg)
{
	(void)arg;
	return (void *)(long)link_is(thread_expect);
}

static int report(const char *what, int ok)
{
	printf("%s %s\n", ok ? "ok" : "WRONG", what);
	return ok ? 0 : 1;
}

static int child_ok(pid_t pid)
{
	int status;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int inherit(const char *self, const char *expect)
{
	int bad = 0, fds[2];
	pthread_t thread;
	void *result;
	pid_t pid;
	char c;

	bad |= report("self", link_is(expect));
	pid = fork();
	if (pid == 0)
		_exit(link_is(expect) ? 0 : 1);
	bad |= report("fork", child_ok(pid));
	pid = fork();
	if (pid == 0) {
		execl(self, self, "readlink-is", expect, (char *)NULL);
		_exit(2);
	}
	bad |= report("fork+exec", child_ok(pid));
	thread_expect = expect;
	if (pthread_create(&thread, NULL, thread_check, NULL) == 0 &&
	    pthread_join(thread, &result) == 0)
		bad |= report("thread", result != NULL);
	else
		bad |= report("thread (cannot create)", 0);
	pid = fork();
	if (pid == 0)
		_exit(setsid() > 0 && link_is(expect) ? 0 : 1);
	bad |= report("setsid", child_ok(pid));

	/* Double fork: the grandchild outlives its parent, is reparented to
	 * init, and only then reads its link; it answers through a pipe. */
	if (pipe(fds))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (fork() == 0) {
			int i;

			for (i = 0; i < 5000 && getppid() != 1; i++)
				usleep(1000);
			c = getppid() == 1 ? (link_is(expect) ? 'y' : 'n') : 'p';
			if (write(fds[1], &c, 1) != 1)
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	close(fds[1]);
	waitpid(pid, NULL, 0);
	c = '?';
	if (read(fds[0], &c, 1) != 1)
		c = '?';
	close(fds[0]);
	bad |= report(c == 'p' ? "orphan (never reparented to init)" : "orphan reparented to init", c == 'y');
	return bad;
}

/* ---- P1 */

static int p1_worker(const char *target, const char *other, long n, int go)
{
	char c, buf[PATH_MAX];
	long i, wrong = 0;

	if (write_errno(SETLINK, target, strlen(target)))
		_exit(3);
	if (read(go, &c, 1) != 1)
		_exit(4);
	for (i = 0; i < n; i++) {
		if (read_link(buf, sizeof buf) || strcmp(buf, target))
			wrong++;
		if (!strcmp(buf, other))
			wrong += 1000000;
	}
	_exit(wrong ? 1 : 0);
}

static int p1(const char *ta, const char *tb, long n)
{
	int go[2], ok;
	pid_t a, b;

	if (pipe(go))
		return 1;
	a = fork();
	if (a == 0)
		p1_worker(ta, tb, n, go[0]);
	b = fork();
	if (b == 0)
		p1_worker(tb, ta, n, go[0]);
	/* Both have set their links before either starts reading. */
	usleep(100000);
	if (write(go[1], "xx", 2) != 2)
		return 1;
	ok = child_ok(a) & child_ok(b);
	return report("two links at once", ok);
}

/* ---- P8 */

static int pidns(const char *expect)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID)) {
		printf("unshare: %s\n", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid == 0)
		_exit(getpid() == 1 && link_is(expect) ? 0 : 1);
	return report("pid 1 of a new pid namespace", child_ok(pid));
}

static int reuse(const char *target, const char *dflt)
{
	int fd, status;
	char text[32];
	pid_t a, b;

	a = fork();
	if (a == 0)
		_exit(write_errno(SETLINK, target, strlen(target)) || !link_is(target));
	if (waitpid(a, &status, 0) != a || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("setup: the first child could not set its link\n");
		return 1;
	}
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	snprintf(text, sizeof text, "%d", (int)a - 1);
	if (fd < 0 || write(fd, text, strlen(text)) < 0) {
		printf("ns_last_pid: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	b = fork();
	if (b == 0)
		_exit(getpid() == a && link_is(dflt) ? 0 : 1);
	return report("reused pid reads the unregistered answer", child_ok(b));
}

/* ---- W7 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int storm(int kmod, long total, int workers, char **args, int nargs)
{
	long per = total / workers, wrong = 0, errors = 0, checks = 0;
	int w, status, fds[2];
	double start;

	if (pipe(fds))
		return 1;
	start = now_s();
	for (w = 0; w < workers; w++) {
		if (fork() == 0) {
			char path[PATH_MAX], expect[PATH_MAX], buf[PATH_MAX];
			long i, counts[3] = { 0, 0, 0 };

			if (kmod) {
				snprintf(expect, sizeof expect, "%s", args[w % nargs]);
				snprintf(path, sizeof path, "%s", LINK);
				if (write_errno(SETLINK, expect, strlen(expect)))
					_exit(3);
			} else {
				snprintf(expect, sizeof expect, "t%d", w);
				snprintf(path, sizeof path, "%s/%d", args[0], w);
				unlink(path);
				if (symlink(expect, path))
					_exit(3);
			}
			for (i = 0; i < per; i++) {
				pid_t pid = fork();

				if (pid == 0) {
					ssize_t n = readlink(path, buf, sizeof buf - 1);

					if (n < 0)
						_exit(2);
					buf[n] = '\0';
					_exit(strcmp(buf, expect) ? 1 : 0);
				}
				if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
					counts[2]++;
					continue;
				}
				counts[WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 1 ? 1 : 2]++;
			}
			if (write(fds[1], counts, sizeof counts) != sizeof counts)
				_exit(4);
			_exit(0);
		}
	}
	close(fds[1]);
	for (w = 0; w < workers; w++) {
		long counts[3];

		if (read(fds[0], counts, sizeof counts) != sizeof counts) {
			errors += per;
			continue;
		}
		checks += counts[0] + counts[1] + counts[2];
		wrong += counts[1];
		errors += counts[2];
	}
	while (wait(NULL) > 0)
		;
	start = now_s() - start;
	printf("checks=%ld wrong=%ld errors=%ld seconds=%.3f rate=%.0f\n",
	       checks, wrong, errors, start, checks / start);
	return wrong || errors || checks != per * workers;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char buf[PATH_MAX];

	if (!strcmp(cmd, "setlink") && argc >= 3) {
		int e = write_errno(SETLINK, argv[2], strlen(argv[2]));

		if (e) {
			printf("setlink %s: %s\n", argv[2], errno_name(e));
			return 1;
		}
		if (argc > 3) {
			execv(argv[3], argv + 3);
			printf("exec %s: %s\n", argv[3], strerror(errno));
			return 127;
		}
		return 0;
	}
	if (!strcmp(cmd, "readlink-is") && argc == 3) {
		int e = read_link(buf, sizeof buf);

		if (e || strcmp(buf, argv[2])) {
			printf("link: %s\n", e ? errno_name(-e) : buf);
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "expect-setlink") && argc == 4)
		return expect_write(SETLINK, argv[2], argv[3]);
	if (!strcmp(cmd, "expect-valid") && argc == 4)
		return expect_write(VALID, argv[2], argv[3]);
	if (!strcmp(cmd, "runas") && argc >= 4) {
		if (drop_to(atoi(argv[2])))
			return 1;
		execv(argv[3], argv + 3);
		printf("exec %s: %s\n", argv[3], strerror(errno));
		return 127;
	}
	if (!strcmp(cmd, "fdpass") && argc == 4) {
		int fd = open(SETLINK, O_WRONLY), e = 0;

		if (fd < 0 || drop_to(atoi(argv[2])))
			return 1;
		if (write(fd, argv[3], strlen(argv[3])) < 0)
			e = errno;
		if (e != EPERM) {
			printf("write after the drop: got %s, expected EPERM\n", errno_name(e));
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "inherit") && argc == 3)
		return inherit(argv[0], argv[2]);
	if (!strcmp(cmd, "p1") && argc == 5)
		return p1(argv[2], argv[3], atol(argv[4]));
	if (!strcmp(cmd, "pidns") && argc == 3)
		return pidns(argv[2]);
	if (!strcmp(cmd, "reuse") && argc == 4)
		return reuse(argv[2], argv[3]);
	if (!strcmp(cmd, "storm") && argc >= 6)
		return storm(!strcmp(argv[2], "kmod"), atol(argv[3]), atoi(argv[4]), argv + 5, argc - 5);
	fprintf(stderr, "usage: chos-kmod-probe COMMAND ARGS... (see the source)\n");
	return 2;
}
