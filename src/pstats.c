// SPDX-License-Identifier: GPL-2.0
/* pstats output: Python's marshal format for dict, tuple, int, float and
 * str (CPython's Python/marshal.c), written directly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "output.h"
#include "pstats.h"
#include "util.h"

/* A function: its key, and self and total weight. */
struct ps_func {
	const char *file, *name;
	size_t file_len, name_len;
	unsigned long line;
	uint64_t self, total;
	size_t seen; /* 1 + the last stack that counted total */
};

/* An edge caller -> callee, in an open-addressing table. */
struct ps_edge {
	uint64_t key; /* callee << 32 | caller; 0: empty (ids are stored + 1) */
	uint64_t tt, ct;
	size_t seen;
};

struct ps_edges {
	struct ps_edge *slots;
	size_t n, cap;
};

static struct ps_edge *edge_get(struct ps_edges *e, uint32_t callee, uint32_t caller)
{
	uint64_t key = ((uint64_t)(callee + 1) << 32) | (caller + 1);
	size_t s;

	if ((e->n + 1) * 2 > e->cap) {
		struct ps_edge *old = e->slots;
		size_t ocap = e->cap;

		e->cap = e->cap ? e->cap * 2 : 1024;
		e->slots = xcalloc(e->cap, sizeof(*e->slots));
		for (size_t i = 0; i < ocap; i++) {
			if (!old[i].key)
				continue;
			s = hash_bytes(&old[i].key, sizeof(key), 0) & (e->cap - 1);
			while (e->slots[s].key)
				s = (s + 1) & (e->cap - 1);
			e->slots[s] = old[i];
		}
		free(old);
	}
	s = hash_bytes(&key, sizeof(key), 0) & (e->cap - 1);
	while (e->slots[s].key && e->slots[s].key != key)
		s = (s + 1) & (e->cap - 1);
	if (!e->slots[s].key) {
		e->slots[s].key = key;
		e->n++;
	}
	return &e->slots[s];
}

static void put_i32(FILE *f, int32_t v)
{
	uint32_t u = (uint32_t)v;
	unsigned char b[4] = { u & 0xff, (u >> 8) & 0xff, (u >> 16) & 0xff, u >> 24 };

	fwrite(b, 1, 4, f);
}

static void put_int(FILE *f, long v)
{
	fputc('i', f);
	put_i32(f, v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

static void put_float(FILE *f, double v)
{
	unsigned char b[8];
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	fputc('g', f);
	fwrite(b, 1, 8, f);
}

static void put_str(FILE *f, const char *s, size_t len)
{
	fputc('u', f);
	put_i32(f, (int32_t)len);
	fwrite(s, 1, len, f);
}

static void put_key(FILE *f, const struct ps_func *fn)
{
	fputc('(', f);
	put_i32(f, 3);
	put_str(f, fn->file, fn->file_len);
	put_int(f, (long)fn->line);
	put_str(f, fn->name, fn->name_len);
}

int pstats__write(FILE *f, const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);
	struct profile *names = profile__new();
	uint32_t *map = profile__map_functions(p, names);
	size_t nf = profile__nframes(p), nfn = profile__nframes(names), ns = profile__nstacks(p);
	struct ps_func *fns = xcalloc(nfn ? nfn : 1, sizeof(*fns));
	struct ps_edges edges = { 0 };
	double sec = unit_seconds(m->unit, m->hz);
	int ret;

	if (m->unit && !strcmp(m->unit, "bytes")) {
		p_err("pstats holds times, and this profile counts bytes (write %s)",
		      output__exts_for_unit(m->unit));
		profile__free(names);
		free(map);
		free(fns);
		errno = EINVAL;
		return -1;
	}
	if (sec <= 0) {
		p_warn("pstats output: the sampling rate is unknown, so each sample is written as "
		       "one second (give --hz to report for real times)");
		sec = 1;
	}
	/* Each function's key: Python frames ("qualname (file:LINE)") by file,
	 * lowest line and qualname; the rest as cProfile's builtins.
	 */
	for (size_t i = 0; i < nf; i++) {
		const char *name = profile__frame_name(p, (uint32_t)i);
		struct ps_func *fn = &fns[map[i]];
		struct frame_py py;

		if (frame__parse_python(name, &py)) {
			if (!fn->file || py.line < fn->line) {
				fn->file = py.file;
				fn->file_len = py.file_len;
				fn->name = py.qualname;
				fn->name_len = py.qualname_len;
				fn->line = py.line;
			}
		} else if (!fn->file) {
			fn->file = "~";
			fn->file_len = 1;
			fn->name = name;
			fn->name_len = strlen(name);
		}
	}
	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);

		if (!w || !n)
			continue;
		fns[map[frames[n - 1]]].self += w;
		for (uint32_t j = 0; j < n; j++) {
			struct ps_func *fn = &fns[map[frames[j]]];

			/* Once per stack, so recursion does not count twice. */
			if (fn->seen != i + 1) {
				fn->seen = i + 1;
				fn->total += w;
			}
			if (j) {
				struct ps_edge *e =
				    edge_get(&edges, map[frames[j]], map[frames[j - 1]]);

				if (e->seen != i + 1) {
					e->seen = i + 1;
					e->ct += w;
				}
				if (j == n - 1)
					e->tt += w;
			}
		}
	}
	/* Edges grouped by callee, for writing each function's callers. */
	{
		size_t *start = xcalloc(nfn + 1, sizeof(*start)), *fill;
		struct ps_edge **byc = xmalloc((edges.n ? edges.n : 1) * sizeof(*byc));

		for (size_t s = 0; s < edges.cap; s++)
			if (edges.slots[s].key)
				start[(edges.slots[s].key >> 32) - 1 + 1]++;
		for (size_t c = 0; c < nfn; c++)
			start[c + 1] += start[c];
		fill = xmalloc((nfn ? nfn : 1) * sizeof(*fill));
		memcpy(fill, start, (nfn ? nfn : 1) * sizeof(*fill));
		for (size_t s = 0; s < edges.cap; s++)
			if (edges.slots[s].key)
				byc[fill[(edges.slots[s].key >> 32) - 1]++] = &edges.slots[s];

		fputc('{', f);
		for (size_t c = 0; c < nfn; c++) {
			const struct ps_func *fn = &fns[c];

			if (!fn->total)
				continue;
			put_key(f, fn);
			fputc('(', f);
			put_i32(f, 5);
			put_int(f, 0);
			put_int(f, 0);
			put_float(f, (double)fn->self * sec);
			put_float(f, (double)fn->total * sec);
			fputc('{', f);
			for (size_t k = start[c]; k < start[c + 1]; k++) {
				const struct ps_edge *e = byc[k];

				put_key(f, &fns[(e->key & 0xffffffff) - 1]);
				fputc('(', f);
				put_i32(f, 4);
				put_int(f, 0);
				put_int(f, 0);
				put_float(f, (double)e->tt * sec);
				put_float(f, (double)e->ct * sec);
			}
			fputc('0', f);
		}
		fputc('0', f);
		free(start);
		free(fill);
		free(byc);
	}
	ret = ferror(f) ? -1 : 0;
	if (ret && !errno)
		errno = EIO;
	free(edges.slots);
	free(fns);
	free(map);
	profile__free(names);
	return ret;
}
