/*
 * stat_loop: N stat() calls of one path, prints the mean cost in ns per call.
 * The W2 lookup workload (docs/benchmarks.md): run it on a path that crosses the CHOS
 * link (e.g. /usr/bin/env inside an environment) and on the same file natively,
 * interleaved, and compare the ratios.
 *
 * usage: stat_loop PATH [N]      (N defaults to 200000)
 * output: one line "<ns per call>" (floating point) on stdout; exit 1 on error.
 *
 * Build: cc -O2 -o stat_loop stat_loop.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bench_clock.h"

int main(int argc, char **argv)
{
	const char *path;
	char *end = NULL;
	long n = 200000;
	struct stat st;
	long long start;
	double elapsed;
	long i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: stat_loop PATH [N]\n");
		return 1;
	}
	path = argv[1];
	if (argc == 3) {
		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0) {
			fprintf(stderr, "stat_loop: invalid count: '%s'\n", argv[2]);
			return 1;
		}
	}
	/* One untimed call: the path must exist, and warms the caches. */
	if (stat(path, &st) != 0) {
		fprintf(stderr, "stat_loop: cannot stat: '%s': %s\n", path, strerror(errno));
		return 1;
	}
	start = now_ns();
	for (i = 0; i < n; i++) {
		if (stat(path, &st) != 0) {
			fprintf(stderr, "stat_loop: stat failed at call %ld: '%s': %s\n", i, path, strerror(errno));
			return 1;
		}
	}
	elapsed = (double)(now_ns() - start);
	printf("%.1f\n", elapsed / (double)n);
	return 0;
}
