/* pingpong -- the floor under any user-space link daemon: the round trip of one
 * byte between two processes over a pair of pipes (two wake-ups, two context
 * switches), the same kernel work a FUSE upcall cannot avoid. Prints ns per round
 * trip (one line).
 *
 *   pingpong N [same|any]     same: both processes on CPU 0; any: the scheduler's choice */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	int same = argc > 2 && strcmp(argv[2], "same") == 0;
	int there[2], back[2];
	char c = 0;

	if (n <= 0 || pipe(there) != 0 || pipe(back) != 0) {
		fprintf(stderr, "usage: pingpong N [same|any]\n");
		return 2;
	}
	if (same) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			perror("pingpong: sched_setaffinity");
			return 2;
		}
	}
	pid_t pid = fork();

	if (pid < 0)
		return 2;
	if (pid == 0) {
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			if (write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	long long start = now_ns();

	for (long i = 0; i < n; i++) {
		if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) {
			perror("pingpong");
			return 1;
		}
	}
	long long took = now_ns() - start;

	close(there[1]);
	waitpid(pid, NULL, 0);
	printf("%lld\n", took / n);
	return 0;
}
