// SPDX-License-Identifier: GPL-2.0
/* A native call tree known by construction, for file:line and inlined
 * frames: main -> driver -> hot, and mix inlined into hot. Built -g -O2
 * -fomit-frame-pointer by the tests; each line they check is marked
 * "LINE:name" for them to find.
 *
 *   srcline SECONDS
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static inline __attribute__((always_inline)) unsigned long mix(unsigned long x)
{
	/* LINE:mix-begin */
	for (int i = 0; i < 4000; i++)
		x = x * 6364136223846793005UL + (x >> 29) + 1442695040888963407UL;
	return x;
	/* LINE:mix-end */
}

__attribute__((noipa)) unsigned long hot(unsigned long x)
{
	x = mix(x); /* LINE:hot-call */
	return x ^ (x >> 17);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noipa)) void driver(double secs)
{
	double end = now() + secs;

	while (now() < end)
		for (int i = 0; i < 100; i++)
			sink += hot(sink + (unsigned long)i); /* LINE:driver-call */
}

int main(int argc, char **argv)
{
	driver(argc > 1 ? atof(argv[1]) : 2);
	return 0;
}
