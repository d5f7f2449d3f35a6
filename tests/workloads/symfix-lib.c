// SPDX-License-Identifier: GPL-2.0
/* The shared-library half of the symbolization fixture. Addresses are taken
 * inside the library so no PLT stub stands in for the function.
 */
#include <stdio.h>

__attribute__((noinline)) void lib_exported(void)
{
	puts("");
}

__attribute__((noinline)) static void lib_local(void)
{
	puts("");
}

void *lib_exported_addr(void)
{
	return (void *)lib_exported;
}

void *lib_local_addr(void)
{
	return (void *)lib_local;
}
