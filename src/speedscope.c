// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flamegraph.h"
#include "speedscope.h"
#include "util.h"

static void json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
	json_str(f, s, strlen(s));
}

/* Stacks grouped by (root, thread frame); UINT64_MAX for stacks without one. */
struct grouped {
	uint64_t key;
	size_t stack;
};

static int cmp_grouped(const void *a, const void *b)
{
	const struct grouped *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static const char *unit_of(const struct profile_meta *m)
{
	if (m->unit && !strcmp(m->unit, "microseconds"))
		return "microseconds";
	if (m->unit && !strcmp(m->unit, "nanoseconds"))
		return "nanoseconds";
	return "none";
}

int speedscope__write(FILE *f, const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);
	size_t ns = profile__nstacks(p), nf = profile__nframes(p), ng = 0;
	struct grouped *g = xmalloc((ns ? ns : 1) * sizeof(*g));
	char desc[512];
	int nprof = 0;

	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *fr = profile__stack(p, i, &n, &w);

		if (!w || !n)
			continue;
		g[ng].stack = i;
		g[ng++].key = profile__stack_thread(p, fr, n, NULL)
				  ? ((uint64_t)fr[0] << 32 | fr[1])
				  : UINT64_MAX;
	}
	qsort(g, ng, sizeof(*g), cmp_grouped);
	profile_meta__describe(m, desc, sizeof(desc));

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n\"name\":", f);
	json_cstr(f, desc);
	fprintf(f, ",\n\"exporter\":\"rampa-bpf %s\",\n\"activeProfileIndex\":0,\n", RAMPA_VERSION);
	fputs("\"shared\":{\"frames\":[", f);
	for (size_t i = 0; i < nf; i++) {
		const char *name = profile__frame_name(p, (uint32_t)i);
		struct frame_py py;

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
		if (frame__parse_python(name, &py)) {
			json_str(f, py.qualname, py.qualname_len);
			fputs(",\"file\":", f);
			json_str(f, py.file, py.file_len);
			fprintf(f, ",\"line\":%lu}", py.line);
		} else {
			json_cstr(f, name);
			fputc('}', f);
		}
	}
	fputs("]},\n\"profiles\":[", f);
	for (size_t i = 0; i < ng || (!ng && !nprof);) {
		size_t j = i;
		uint64_t total = 0, key = ng ? g[i].key : UINT64_MAX;
		int threaded = key != UINT64_MAX;
		char name[1024];

		while (j < ng && g[j].key == key) {
			uint32_t n;
			uint64_t w;

			profile__stack(p, g[j].stack, &n, &w);
			total += w;
			j++;
		}
		if (threaded)
			snprintf(name, sizeof(name), "%s / %s (%s)",
				 profile__frame_name(p, (uint32_t)(key >> 32)),
				 profile__frame_name(p, (uint32_t)key), desc);
		else
			snprintf(name, sizeof(name), "%s", desc);
		fputs(nprof++ ? ",\n{\"type\":\"sampled\",\"name\":"
			      : "\n{\"type\":\"sampled\",\"name\":",
		      f);
		json_cstr(f, name);
		fprintf(
		    f, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":%" PRIu64 ",\n\"samples\":[",
		    unit_of(m), total);
		for (size_t k = i; k < j; k++) {
			uint32_t n;
			uint64_t w;
			const uint32_t *fr = profile__stack(p, g[k].stack, &n, &w);

			fputs(k > i ? ",[" : "[", f);
			for (uint32_t d = 0, out = 0; d < n; d++) {
				/* The thread is the profile; its frame is not a call. */
				if (threaded && d == 1)
					continue;
				fprintf(f, out++ ? ",%u" : "%u", fr[d]);
			}
			fputc(']', f);
		}
		fputs("],\n\"weights\":[", f);
		for (size_t k = i; k < j; k++) {
			uint32_t n;
			uint64_t w;

			profile__stack(p, g[k].stack, &n, &w);
			fprintf(f, k > i ? ",%" PRIu64 : "%" PRIu64, w);
		}
		fputs("]}", f);
		if (j == i)
			break;
		i = j;
	}
	fputs("]}\n", f);
	free(g);
	return ferror(f) ? -1 : 0;
}
