// SPDX-License-Identifier: GPL-2.0
/* For rampa-bpf dump (t3018): a C process whose stacks are known by
 * construction. The main thread blocks in read() on a pipe nobody writes,
 * called from wait_outer() -> wait_inner(); a thread named "spinner" spins in
 * spin_here(). Prints "ready" once both are in place; ends on SIGTERM.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile unsigned long spins;
static volatile int named;

__attribute__((noinline)) static void spin_here(void)
{
	for (;;)
		spins++;
}

static void *spinner(void *arg)
{
	/* prctl, not pthread_setname_np: a chroot may have no /proc. */
	prctl(PR_SET_NAME, "spinner");
	named = 1;
	spin_here();
	return arg;
}

__attribute__((noinline)) static void wait_inner(int fd)
{
	char c;

	printf("ready\n");
	fflush(stdout);
	if (read(fd, &c, 1) < 0)
		perror("read");
	__asm__ volatile("");
}

__attribute__((noinline)) static void wait_outer(int fd)
{
	wait_inner(fd);
	__asm__ volatile("");
}

int main(void)
{
	pthread_t t;
	int p[2];

	if (pipe(p) || pthread_create(&t, NULL, spinner, NULL))
		return 1;
	while (!named)
		;
	wait_outer(p[0]);
	return 0;
}
