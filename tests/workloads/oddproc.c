// SPDX-License-Identifier: GPL-2.0
/* A process with an odd but legal shape, for record's process handling.
 *
 *   oddproc NAME SECONDS [main-exits]
 *
 * Names itself NAME (any bytes: a newline, ')', invalid UTF-8), spins for
 * SECONDS in a second thread; with main-exits the main thread exits at once
 * and the process lives on in that thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

static volatile unsigned long sink;
static double seconds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *odd_spin(void *arg)
{
	double end = now() + seconds;

	(void)arg;
	while (now() < end)
		for (int i = 0; i < 2000; i++)
			sink += (unsigned long)i * i;
	exit(0);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 3)
		return 2;
	seconds = atof(argv[2]);
	prctl(PR_SET_NAME, argv[1], 0, 0, 0);
	pthread_create(&t, NULL, odd_spin, NULL);
	if (argc > 3 && !strcmp(argv[3], "main-exits"))
		pthread_exit(NULL);
	pthread_join(t, NULL);
	return 0;
}
