/* The benchmarks' clock: monotonic nanoseconds, shared by the static probes of
 * bench/ (each is built alone with "cc -O2 -static PROBE.c", so this is a header). */
#ifndef CHOS_BENCH_CLOCK_H
#define CHOS_BENCH_CLOCK_H

#include <time.h>

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
