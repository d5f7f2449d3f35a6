// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf mem --precise -- CMD (t3024): leaks 64 MiB in 1 MiB malloc
 * blocks, written, in its first milliseconds after exec, then sleeps
 * argv[1] seconds: the allocator must be probed before the exec.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile kept[64];

__attribute__((noinline)) static void early_leak(void)
{
	for (int i = 0; i < 64; i++) {
		kept[i] = malloc(1 << 20);
		if (kept[i])
			memset(kept[i], 1, 1 << 20);
	}
}

int main(int argc, char **argv)
{
	early_leak();
	usleep((useconds_t)((argc > 1 ? atof(argv[1]) : 0.3) * 1e6));
	return 0;
}
