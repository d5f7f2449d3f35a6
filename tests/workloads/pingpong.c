// SPDX-License-Identifier: GPL-2.0
/* Context-switch-heavy workload: two threads pass a byte back and forth over
 * two pipes N times; prints the time taken. Every round trip is two blocking
 * reads, so two switches out and two back in.
 *
 *   pingpong [ROUND_TRIPS [WORK]]
 *
 * WORK: loop iterations of arithmetic per round trip, to set the rate.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int ab[2], ba[2];
static long rounds = 200000, work;
static volatile unsigned long sink;

static void busy(void)
{
	for (long i = 0; i < work; i++)
		sink += i;
}

static void *echo(void *arg)
{
	char c;

	for (long i = 0; i < rounds; i++) {
		if (read(ab[0], &c, 1) != 1)
			break;
		busy();
		if (write(ba[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t t;
	char c = 'x';

	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2)
		work = atol(argv[2]);
	if (pipe(ab) || pipe(ba))
		return 1;
	pthread_create(&t, NULL, echo, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < rounds; i++) {
		busy();
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	printf("%.6f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
