// SPDX-License-Identifier: GPL-2.0
/* A CPU-bound workload whose profile is known by construction: every 100 ms
 * cycle, hot() spins for 75 ms and warm() for 25 ms, both through spin_until().
 *
 *   spin [SECONDS [THREADS]]   run for SECONDS (default 5) in THREADS threads
 *   spin --work N              run N cycles' worth of fixed work, print the time
 *   spin --rate SECONDS        for SECONDS, print the work units done each 0.5 s
 *
 * Built with frame pointers and without inlining, so the stacks are exact.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Mostly arithmetic between clock reads, so little time is spent in the vDSO. */
__attribute__((noinline)) void spin_until(double deadline)
{
	do {
		for (int i = 0; i < 2000; i++)
			sink += (unsigned long)i * i;
	} while (now() < deadline);
}

__attribute__((noinline)) void hot(void)
{
	spin_until(now() + 0.075);
}

__attribute__((noinline)) void warm(void)
{
	spin_until(now() + 0.025);
}

__attribute__((noinline)) void run_cycles(double seconds)
{
	double end = now() + seconds;

	while (now() < end) {
		hot();
		warm();
	}
}

/* Fixed work for benchmarks: the same instructions every run. */
__attribute__((noinline)) void work(unsigned long n)
{
	for (unsigned long c = 0; c < n; c++)
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i * c;
}

static void *thread_main(void *arg)
{
	run_cycles(*(double *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	double seconds = 5;
	int threads = 1;
	pthread_t tids[64];

	if (argc > 2 && !strcmp(argv[1], "--rate")) {
		double end = now() + atof(argv[2]), next = now() + 0.5;
		unsigned long units = 0;

		setvbuf(stdout, NULL, _IOLBF, 0);
		while (now() < end) {
			work(1);
			units++;
			if (now() >= next) {
				printf("%.3f %lu\n", next, units);
				units = 0;
				next += 0.5;
			}
		}
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--work")) {
		double t0 = now();

		work(strtoul(argv[2], NULL, 10));
		printf("%.6f\n", now() - t0);
		return 0;
	}
	if (argc > 1)
		seconds = atof(argv[1]);
	if (argc > 2)
		threads = atoi(argv[2]);
	if (threads < 1 || threads > 64)
		threads = 1;
	for (int i = 1; i < threads; i++)
		pthread_create(&tids[i], NULL, thread_main, &seconds);
	run_cycles(seconds);
	for (int i = 1; i < threads; i++)
		pthread_join(tids[i], NULL);
	return 0;
}
