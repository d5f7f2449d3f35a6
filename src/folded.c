// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"
#include "util.h"

struct line {
	char *text;
	uint64_t weight;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

static void append_frame(char **buf, size_t *len, size_t *cap, const char *name)
{
	size_t n = strlen(name);

	grow_array((void **)buf, cap, *len + n + 2, 1);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		/* The separators of the format must not occur inside a frame. */
		if (c == ';')
			c = ':';
		else if (c == '\n' || c == '\r')
			c = ' ';
		(*buf)[(*len)++] = c;
	}
	(*buf)[*len] = '\0';
}

int folded__write(FILE *f, const struct profile *p)
{
	size_t n = profile__nstacks(p), out = 0;
	struct line *lines = xcalloc(n, sizeof(*lines));
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t nf;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &nf, &w);
		char *buf = NULL;
		size_t len = 0, cap = 0;

		if (!nf || !w)
			continue;
		for (uint32_t j = 0; j < nf; j++) {
			if (j) {
				grow_array((void **)&buf, &cap, len + 2, 1);
				buf[len++] = ';';
				buf[len] = '\0';
			}
			append_frame(&buf, &len, &cap, profile__frame_name(p, frames[j]));
		}
		lines[out++] = (struct line){ buf, w };
	}
	qsort(lines, out, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < out; i++) {
		if (fprintf(f, "%s %" PRIu64 "\n", lines[i].text, lines[i].weight) < 0)
			ret = -1;
		free(lines[i].text);
	}
	free(lines);
	return ret;
}
