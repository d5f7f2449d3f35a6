// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <libiberty/demangle.h>

#include "demangle.h"

const char *demangle(const char *name, char *buf, size_t len)
{
	char *d;

	/* Only mangled names: a C name goes through untouched and unallocated. */
	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return name;
	d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
	if (!d)
		return name;
	snprintf(buf, len, "%s", d);
	free(d);
	return buf;
}
