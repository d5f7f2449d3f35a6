// SPDX-License-Identifier: GPL-2.0
/* A call chain with known shape for the CFI unwinder: run() -> level1() ->
 * level2() -> level3(), where level3 spins. Built -O2 -fomit-frame-pointer
 * by tests/t3020 and t4020: no frame pointer anywhere in it. As a library
 * (ctypes, dlopen) it needs no libc; with -DCHAIN_MAIN it is a program
 * running the chain for argv[1] seconds of CPU.
 */
volatile double chain_sink;

__attribute__((noinline)) double level3(long n)
{
	double s = 0;

	for (long i = 0; i < n; i++)
		s += i * 0.5 / (i + 1);
	return s;
}

/* Not tail calls: each level uses its callee's result. With
 * -DBIG_FRAME=BYTES level2's frame holds that big a buffer: its CFA is
 * rsp + BYTES and more, beyond what a 16-bit offset holds.
 */
__attribute__((noinline)) double level2(long n)
{
#ifdef BIG_FRAME
	volatile char buf[BIG_FRAME];

	buf[0] = (char)n;
	buf[BIG_FRAME - 1] = (char)n;
	double r = level3(n) + buf[0] + buf[BIG_FRAME - 1];
#else
	double r = level3(n);
#endif

	chain_sink = r;
	return r + 1;
}

__attribute__((noinline)) double level1(long n)
{
	double r = level2(n);

	chain_sink = r;
	return r + 2;
}

__attribute__((noinline)) double run(long n)
{
	double r = level1(n);

	chain_sink = r;
	return r;
}

#ifdef CHAIN_MAIN
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	struct timespec t;

	do {
		run(200000);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	} while (t.tv_sec + t.tv_nsec / 1e9 < secs);
	return 0;
}
#endif
