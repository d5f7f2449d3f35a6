// SPDX-License-Identifier: GPL-2.0
/* Not an interpreter: a process whose _PyRuntime begins as a free-threaded
 * CPython 3.13's does (_Py_DebugOffsets: cookie "xdebugpy", version
 * 0x030d00f0, free_threaded 1). No free-threaded build is packaged for the
 * test machine (Debian ships none); this checks that rampa-bpf says why it
 * shows no Python frames rather than showing none silently. Prints "ready",
 * then waits.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

struct {
	char cookie[8];
	uint64_t version;
	uint64_t free_threaded;
	char rest[4096];
} _PyRuntime = { "xdebugpy", 0x030d00f0, 1, { 0 } };

int main(void)
{
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
