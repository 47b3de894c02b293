/* launch_loop -- W1 (docs/benchmarks.md): run a command N times, one after the other,
 * and print the mean wall time per launch in ns (one line). Any run that does not
 * exit 0 is an error: a benchmark of a failing launcher measures nothing.
 *
 *   launch_loop [-u UID] N CMD [ARGS...]
 *
 * -u UID: drop to UID (and gid UID, no groups) first, so that a setuid launcher is
 * measured the way a user runs it, without a setpriv exec in every sample. */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-u") == 0) {
		uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);

		if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 ||
		    setresuid(uid, uid, uid) != 0) {
			perror("launch_loop: cannot drop privileges");
			return 2;
		}
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: launch_loop [-u UID] N CMD [ARGS...]\n");
		return 2;
	}
	long n = strtol(argv[i], NULL, 10);
	char **cmd = argv + i + 1;

	if (n <= 0) {
		fprintf(stderr, "launch_loop: N must be positive\n");
		return 2;
	}
	long long start = now_ns();

	for (long k = 0; k < n; k++) {
		pid_t pid = fork();
		int status;

		if (pid < 0) {
			perror("launch_loop: fork");
			return 2;
		}
		if (pid == 0) {
			execvp(cmd[0], cmd);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "launch_loop: '%s' failed (status 0x%x)\n", cmd[0], status);
			return 1;
		}
	}
	printf("%lld\n", (now_ns() - start) / n);
	return 0;
}
