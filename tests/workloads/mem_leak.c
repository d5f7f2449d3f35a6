// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf mem (t3023): a library loaded by ctypes. leak_blocks() mallocs
 * blocks and never frees them; churn_blocks() mallocs and frees blocks above
 * glibc's largest mmap threshold (given back by munmap). Each page is
 * written here, so the faults are in these functions.
 */
#include <stdlib.h>

#define PAGE 4096

static void touch(volatile char *p, size_t len)
{
	for (size_t i = 0; i < len; i += PAGE)
		p[i] = 1;
}

void leak_blocks(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(size);

		if (p)
			touch(p, size);
	}
}

void churn_blocks(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(size);

		if (p)
			touch(p, size);
		free(p);
	}
}
