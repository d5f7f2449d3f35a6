// SPDX-License-Identifier: GPL-2.0
/* Maps a library only after the profiler attached: sleeps argv[2] seconds,
 * dlopen()s argv[1] (unwind-chain.c as a library) and calls its run() for
 * argv[3] seconds of CPU. Built -O2 -fomit-frame-pointer by tests/t3020.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double (*run)(long);
	struct timespec t;
	double secs;
	void *lib;

	if (argc < 4)
		return 2;
	usleep((useconds_t)(atof(argv[2]) * 1e6));
	lib = dlopen(argv[1], RTLD_NOW);
	if (!lib || !(run = (double (*)(long))dlsym(lib, "run"))) {
		fprintf(stderr, "unwind-dlopen: %s\n", dlerror());
		return 1;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	secs = t.tv_sec + t.tv_nsec / 1e9 + atof(argv[3]);
	do {
		run(200000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	} while (t.tv_sec + t.tv_nsec / 1e9 < secs);
	return 0;
}
