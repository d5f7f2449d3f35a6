// SPDX-License-Identifier: GPL-2.0
/* Mappings resized and partly given back, sizes known by construction
 * (tests/t3023, t3024). grow_mapping() maps 1 MiB and grows it by mremap,
 * 1 MiB at a time (moving it when it must), to 64 MiB, writing every page:
 * it keeps 64 MiB. halve_mapping() maps 64 MiB, writes it, and unmaps its
 * first and last 16 MiB: it keeps 32. shrink_mapping() maps 32 MiB, writes
 * it, and shrinks it to 16 by mremap: it keeps 16. Then sleeps argv[1]
 * seconds, everything still mapped. It waits 0.3 s first: a profiler
 * started with it has read its unwind tables by then (walks taken before
 * are cut at the leaf).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024ul * 1024)

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void touch(char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
}

/* Something mapped right after the block, so that growing it must move it. */
static void *__attribute__((noinline)) neighbour(void)
{
	return map(4096);
}

static char *__attribute__((noinline)) grow_mapping(void)
{
	size_t len = MIB;
	char *p = map(len);

	touch(p, len);
	while (len < 64 * MIB) {
		if (len == 16 * MIB)
			neighbour();
		p = mremap(p, len, len + MIB, MREMAP_MAYMOVE);
		if (p == MAP_FAILED) {
			perror("mremap");
			exit(1);
		}
		touch(p + len, MIB);
		len += MIB;
	}
	return p;
}

static char *__attribute__((noinline)) halve_mapping(void)
{
	char *p = map(64 * MIB);

	touch(p, 64 * MIB);
	if (munmap(p, 16 * MIB) || munmap(p + 48 * MIB, 16 * MIB)) {
		perror("munmap");
		exit(1);
	}
	return p + 16 * MIB;
}

static char *__attribute__((noinline)) shrink_mapping(void)
{
	char *p = map(32 * MIB);

	touch(p, 32 * MIB);
	p = mremap(p, 32 * MIB, 16 * MIB, 0);
	if (p == MAP_FAILED) {
		perror("mremap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	volatile char *kept[3];

	usleep(300000);
	kept[0] = grow_mapping();
	kept[1] = halve_mapping();
	kept[2] = shrink_mapping();
	usleep((useconds_t)((argc > 1 ? atof(argv[1]) : 0.5) * 1e6));
	return kept[0][0] + kept[1][0] + kept[2][0] == 3 ? 0 : 1;
}
