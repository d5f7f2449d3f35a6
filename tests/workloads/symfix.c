// SPDX-License-Identifier: GPL-2.0
/* Symbolization fixture: prints "name address" for functions in the
 * executable and in libsymfix, then waits to be inspected and killed.
 */
#include <stdio.h>
#include <unistd.h>

void *lib_exported_addr(void);
void *lib_local_addr(void);

__attribute__((noinline)) void exe_exported(void)
{
	puts("");
}

__attribute__((noinline)) static void exe_local(void)
{
	puts("");
}

int main(void)
{
	/* Inside a function, not at its first byte, like a sampled address. */
	printf("exe_exported %p\n", (void *)((char *)exe_exported + 1));
	printf("exe_local %p\n", (void *)((char *)exe_local + 1));
	printf("lib_exported %p\n", (void *)((char *)lib_exported_addr() + 1));
	printf("lib_local %p\n", (void *)((char *)lib_local_addr() + 1));
	fflush(stdout);
	for (;;)
		pause();
}
