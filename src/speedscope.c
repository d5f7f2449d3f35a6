// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flamegraph.h"
#include "json_writer.h"
#include "speedscope.h"
#include "util.h"

/* Stacks grouped by (root, thread frame, or process frame without -T);
 * UINT64_MAX for stacks without either. A profile per group.
 */
struct grouped {
	uint64_t key;
	size_t stack;
};

/* The depth of the frame a stack is grouped by (0: none) and of its process
 * frame (0: none).
 */
static int group_of(const struct profile *p, const uint32_t *fr, uint32_t n, int *proc)
{
	int t = profile__stack_thread(p, fr, n, NULL);

	*proc = profile__stack_process(p, fr, n, NULL);
	return t ? t : *proc;
}

static int cmp_grouped(const void *a, const void *b)
{
	const struct grouped *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* A stack's weight in a time slice: with a timeline, samples go in time order. */
struct timed {
	uint32_t slice;
	size_t stack;
	uint64_t weight;
};

static int cmp_timed(const void *a, const void *b)
{
	const struct timed *x = a, *y = b;

	if (x->slice != y->slice)
		return x->slice < y->slice ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* Stacks g[i..j) as samples: one per stack, or with a timeline one per
 * (slice, stack), slice by slice, their weight untimed left at the end.
 * *n gets how many.
 */
static struct timed *samples_of(const struct profile *p, const struct grouped *g, size_t i,
				size_t j, size_t *n)
{
	struct timed *t = NULL;
	size_t cap = 0, nt = 0;

	for (size_t k = i; k < j; k++) {
		uint32_t len, cur = 0, slice;
		uint64_t w, sw, timed = 0;

		profile__stack(p, g[k].stack, &len, &w);
		while (profile__stack_slice(p, g[k].stack, &cur, &slice, &sw)) {
			grow_array((void **)&t, &cap, nt + 1, sizeof(*t));
			t[nt++] = (struct timed){ slice, g[k].stack, sw };
			timed += sw;
		}
		if (timed < w) {
			grow_array((void **)&t, &cap, nt + 1, sizeof(*t));
			t[nt++] = (struct timed){ UINT32_MAX, g[k].stack, w - timed };
		}
	}
	qsort(t, nt, sizeof(*t), cmp_timed);
	*n = nt;
	return t;
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
	int timeline = profile__slice_sec(p) > 0;
	const struct profile_meta *m = profile__meta_ro(p);
	size_t ns = profile__nstacks(p), nf = profile__nframes(p), ng = 0;
	struct grouped *g = xmalloc((ns ? ns : 1) * sizeof(*g));
	char desc[512], exporter[64];
	struct jsonw *jw;
	int nprof = 0;

	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *fr = profile__stack(p, i, &n, &w);

		if (!w || !n)
			continue;
		int proc, d = group_of(p, fr, n, &proc);

		g[ng].stack = i;
		g[ng++].key = d ? ((uint64_t)fr[0] << 32 | fr[d]) : UINT64_MAX;
	}
	qsort(g, ng, sizeof(*g), cmp_grouped);
	profile_meta__describe(m, desc, sizeof(desc));

	jw = jsonw__new(f);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "$schema", "https://www.speedscope.app/file-format-schema.json");
	jsonw__string_field(jw, "name", desc);
	snprintf(exporter, sizeof(exporter), "rampa-bpf %s", RAMPA_VERSION);
	jsonw__string_field(jw, "exporter", exporter);
	jsonw__u64_field(jw, "activeProfileIndex", 0);
	jsonw__name(jw, "shared");
	jsonw__start_object(jw);
	jsonw__name(jw, "frames");
	jsonw__start_array(jw);
	for (size_t i = 0; i < nf; i++) {
		const char *name = profile__frame_name(p, (uint32_t)i);
		struct frame_py py;

		jsonw__start_object(jw);
		jsonw__name(jw, "name");
		if (frame__parse_python(name, &py)) {
			jsonw__string_len(jw, py.qualname, py.qualname_len);
			jsonw__name(jw, "file");
			jsonw__string_len(jw, py.file, py.file_len);
			jsonw__u64_field(jw, "line", py.line);
		} else {
			jsonw__string(jw, name);
		}
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__name(jw, "profiles");
	jsonw__start_array(jw);
	for (size_t i = 0; i < ng || (!ng && !nprof);) {
		size_t j = i;
		uint64_t total = 0, key = ng ? g[i].key : UINT64_MAX;
		int grouped = key != UINT64_MAX, proc = 0, gd = 0;
		char name[1024];
		struct timed *samples;
		size_t nsamples;

		while (j < ng && g[j].key == key) {
			uint32_t n;
			uint64_t w;

			profile__stack(p, g[j].stack, &n, &w);
			total += w;
			j++;
		}
		if (grouped) {
			uint32_t n;
			uint64_t w;
			const uint32_t *fr = profile__stack(p, g[i].stack, &n, &w);

			gd = group_of(p, fr, n, &proc);
			if (proc && proc != gd)
				snprintf(name, sizeof(name), "%s / %s / %s (%s)",
					 profile__frame_name(p, fr[0]),
					 profile__frame_name(p, fr[proc]),
					 profile__frame_name(p, fr[gd]), desc);
			else
				snprintf(name, sizeof(name), "%s / %s (%s)",
					 profile__frame_name(p, fr[0]),
					 profile__frame_name(p, fr[gd]), desc);
		} else
			snprintf(name, sizeof(name), "%s", desc);
		nprof++;
		jsonw__start_object(jw);
		jsonw__string_field(jw, "type", "sampled");
		jsonw__string_field(jw, "name", name);
		jsonw__string_field(jw, "unit", unit_of(m));
		jsonw__u64_field(jw, "startValue", 0);
		jsonw__u64_field(jw, "endValue", total);
		/* Without a timeline the stacks as they are: no copy of them. */
		samples = timeline ? samples_of(p, g, i, j, &nsamples) : NULL;
		if (!timeline)
			nsamples = j - i;
		jsonw__name(jw, "samples");
		jsonw__start_array(jw);
		for (size_t k = 0; k < nsamples; k++) {
			uint32_t n;
			uint64_t w;
			const uint32_t *fr =
			    profile__stack(p, samples ? samples[k].stack : g[i + k].stack, &n, &w);

			jsonw__start_array(jw);
			for (uint32_t d = 0; d < n; d++) {
				/* The thread (or process) is the profile; its
				 * frames are not calls.
				 */
				if (grouped && d && ((int)d == gd || (int)d == proc))
					continue;
				jsonw__u64(jw, fr[d]);
			}
			jsonw__end_array(jw);
		}
		jsonw__end_array(jw);
		jsonw__name(jw, "weights");
		jsonw__start_array(jw);
		for (size_t k = 0; k < nsamples; k++) {
			uint32_t n;
			uint64_t w;

			if (samples)
				w = samples[k].weight;
			else
				profile__stack(p, g[i + k].stack, &n, &w);
			jsonw__u64(jw, w);
		}
		jsonw__end_array(jw);
		free(samples);
		jsonw__end_object(jw);
		if (j == i)
			break;
		i = j;
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__free(jw);
	free(g);
	return ferror(f) ? -1 : 0;
}
