// SPDX-License-Identifier: GPL-2.0
/* Two callers of one blocking function, at the same stack depth, so the
 * syscall is made from the same instruction with the same stack pointer:
 * a() sleeps 3 ms, b() 1 ms, in turn. Off-CPU time is a() 75%, b() 25%.
 * With "deep", c() and d() do the same through via(): the stacks differ
 * only two frames above the leaf.
 *
 *	callers SECONDS [deep]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline)) void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
	__asm__ volatile("");
}

__attribute__((noinline)) void a(void)
{
	pause_ms(3);
	__asm__ volatile("");
}

__attribute__((noinline)) void b(void)
{
	pause_ms(1);
	__asm__ volatile("");
}

__attribute__((noinline)) void via(long ms)
{
	pause_ms(ms);
	__asm__ volatile("");
}

__attribute__((noinline)) void c(void)
{
	via(3);
	__asm__ volatile("");
}

__attribute__((noinline)) void d(void)
{
	via(1);
	__asm__ volatile("");
}

int main(int argc, char **argv)
{
	int deep = argc > 2 && !strcmp(argv[2], "deep");
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += argc > 1 ? atoi(argv[1]) : 2;
	do {
		if (deep) {
			c();
			d();
		} else {
			a();
			b();
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	return 0;
}
