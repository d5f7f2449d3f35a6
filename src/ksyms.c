// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "util.h"

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	int hidden;
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

struct ksyms *ksyms__load(const char *path)
{
	struct ksyms *ks;
	size_t linecap = 0;
	char *line = NULL;
	int nonzero = 0;
	FILE *f;

	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f)
		return NULL;
	ks = xcalloc(1, sizeof(*ks));
	/* Hand-parsed: sscanf over ~200k lines costs more than the kernel's read. */
	while (getline(&line, &linecap, f) > 0) {
		char *end, *name, type;
		uint64_t addr = strtoull(line, &end, 16);

		if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
			continue;
		type = end[1];
		/* Text symbols only: data symbols would swallow code addresses. */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		name[strcspn(name, " \t\n")] = '\0';
		if (!*name)
			continue;
		if (addr)
			nonzero = 1;
		grow_array((void **)&ks->syms, &ks->cap, ks->n + 1, sizeof(*ks->syms));
		ks->syms[ks->n++] = (struct ksym){ addr, xstrdup(name) };
	}
	free(line);
	fclose(f);
	ks->hidden = ks->n && !nonzero;
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_ksym);
	return ks;
}

const char *ksyms__lookup(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || ks->hidden)
		return NULL;
	hi = ks->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* kallsyms has no sizes: the symbol below addr covers it. */
	return lo ? ks->syms[lo - 1].name : NULL;
}

int ksyms__hidden(const struct ksyms *ks)
{
	return ks ? ks->hidden : 1;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}
