// SPDX-License-Identifier: GPL-2.0
/* Children forked without exec that grow: the parent keeps 4 MiB in
 * parent_keep(), then forks 3 children that each keep 8 MiB in
 * child_keep() and exit a second later (tests/t3023). Built without frame
 * pointers: their stacks are walked by the parent's unwind tables, which
 * a forked child shares. Truth: child_keep's bytes under
 * _start;...;main;child_keep, whole.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK (256 * 1024)

static void *kept[128];
static int nkept;

__attribute__((noinline)) static void keep(int blocks)
{
	for (int i = 0; i < blocks && nkept < 128; i++) {
		void *p = malloc(BLOCK);

		memset(p, 1, BLOCK);
		kept[nkept++] = p;
	}
}

__attribute__((noinline)) void parent_keep(void)
{
	keep(16);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void child_keep(void)
{
	keep(32);
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	usleep(300000);
	parent_keep();
	for (int k = 0; k < 3; k++)
		if (fork() == 0) {
			child_keep();
			sleep(1);
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
