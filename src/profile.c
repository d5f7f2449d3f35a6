// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "utf8.h"
#include "util.h"

struct stack_rec {
	size_t frames_off; /* into frame_ids */
	uint32_t n;
	uint32_t cells; /* its latest slice: index + 1 into cells, 0: none */
	uint64_t weight;
	uint64_t hash;
};

struct profile {
	/* Frame names: open addressing on name_slots, values are ids + 1. */
	char **names;
	size_t nnames, names_cap;
	/* Per name: NAME_FIXED (made valid UTF-8 when interned), NAME_UNLISTED
	 * (made by profile__add_unlisted: not in name_slots).
	 */
	unsigned char *name_fixed;
	size_t name_fixed_cap, invalid_utf8;
	uint32_t *name_slots;
	size_t name_slots_cap;

	uint32_t *frame_ids;
	size_t nframe_ids, frame_ids_cap;
	struct stack_rec *stacks;
	size_t nstacks, stacks_cap;
	uint32_t *stack_slots; /* index + 1 */
	size_t stack_slots_cap;

	uint64_t total;
	struct profile_meta meta;
	/* Per name: its kind + 1 when set by profile__set_frame_kind, else 0. */
	unsigned char *kinds;
	size_t kinds_cap;

	/* The timeline: per stack a list of cells, latest slice first (drains
	 * come in time order: the head is where weight goes). Freed cells
	 * (coarsening) are chained from free_cell.
	 */
	double slice_sec;   /* 0: no timeline */
	unsigned int shift; /* slices are slice_sec << shift wide */
	struct slice_cell {
		uint32_t slice, next; /* next: index + 1, 0: the end */
		uint64_t weight;
	} * cells;
	size_t ncells, cells_cap, cells_used, max_cells;
	uint32_t free_cell;
	uint32_t nslices;
	uint64_t timed;

	struct profile_marker *markers;
	size_t nmarkers, markers_cap;
	uint64_t markers_dropped;
	double markers_dropped_sec;

	struct profile_sample_time *times;
	size_t ntimes, times_cap;
	uint64_t times_dropped;

	/* Native code frames (profile__add_native): per name up to the last
	 * one, its module (from 1; 0: not native code) and address.
	 */
	struct native_site {
		uint32_t module;
		uint64_t addr;
	} * sites;
	size_t sites_cap;
	struct profile_module *modules; /* by id - 1 */
	size_t nmodules, modules_cap;
};

#define NAME_FIXED    1
#define NAME_UNLISTED 2

const struct profile_mode profile_modes[] = {
	{
	    .name = "cpu",
	    .title = "CPU",
	    .unit = "samples",
	    .pprof_type = "samples",
	    .words = "on-CPU samples",
	    .sampled = true,
	    .record = true,
	    .attach = MODE_ONCPU,
	    .weighs = MODE_ONCPU,
	},
	{
	    .name = "wall",
	    .title = "Wall-clock",
	    .unit = "microseconds",
	    .pprof_type = "wall",
	    .words = "wall-clock time: on-CPU (sampled) and off-CPU (measured)",
	    .record = true,
	    .attach = MODE_ONCPU | MODE_OFFCPU_KINDS,
	    .weighs = MODE_ONCPU | MODE_OFFCPU_KINDS,
	},
	/* The sampler runs too: the summary gives the CPU time beside. */
	{
	    .name = "offcpu",
	    .title = "Off-CPU",
	    .unit = "microseconds",
	    .pprof_type = "offcpu",
	    .words = "time blocked off-CPU",
	    .record = true,
	    .attach = MODE_ONCPU | MODE_BLOCKED,
	    .weighs = MODE_BLOCKED,
	},
	/* rampa-bpf gil-wait. */
	{
	    .name = "gil-wait",
	    .title = "GIL-wait",
	    .unit = "microseconds",
	    .pprof_type = "gil-wait",
	    .words = "time waiting to take the GIL",
	    .attach = MODE_GIL_WAIT,
	    .weighs = MODE_GIL_WAIT,
	},
	/* On-CPU samples of the threads holding the GIL (record --mode gil). */
	{
	    .name = "gil",
	    .title = "GIL-holding CPU",
	    .unit = "samples",
	    .pprof_type = "gil",
	    .words = "on-CPU samples of threads holding the GIL",
	    .sampled = true,
	    .record = true,
	    .attach = MODE_ONCPU | MODE_GIL_HOLDERS,
	    .weighs = MODE_ONCPU,
	},
	/* Retained memory growth by the stacks that faulted it in (rampa-bpf
	 * mem): weighed by memtrack, not per sample.
	 */
	{
	    .name = "mem",
	    .title = "Memory growth",
	    .unit = "bytes",
	    .pprof_type = "mem",
	    .words = "retained memory growth",
	    .attach = MODE_MEM_GROW,
	    .weighs = MODE_MEM_GROW,
	},
};
const size_t profile_nmodes = sizeof(profile_modes) / sizeof(profile_modes[0]);
const char *profile__mode_list(bool record_only)
{
	static char lists[2][256];
	char *list = lists[record_only];
	size_t n = 0, k = 0;

	if (list[0])
		return list;
	for (size_t i = 0; i < profile_nmodes; i++)
		n += !record_only || profile_modes[i].record;
	for (size_t i = 0; i < profile_nmodes; i++) {
		if (record_only && !profile_modes[i].record)
			continue;
		k++;
		snprintf(list + strlen(list), sizeof(lists[0]) - strlen(list), "%s%s",
			 k == 1	  ? ""
			 : k == n ? " or "
				  : ", ",
			 profile_modes[i].name);
	}
	return list;
}

const struct profile_mode *profile__mode(const char *name)
{
	for (size_t i = 0; name && i < profile_nmodes; i++)
		if (!strcmp(name, profile_modes[i].name))
			return &profile_modes[i];
	return NULL;
}

struct profile *profile__new(void)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	p->meta.mode = "cpu";
	p->meta.unit = "samples";
	return p;
}

void profile__free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->names);
	free(p->name_fixed);
	free(p->name_slots);
	free(p->frame_ids);
	free(p->stacks);
	free(p->stack_slots);
	free(p->kinds);
	free(p->cells);
	free(p->markers);
	free(p->times);
	free(p->sites);
	for (size_t i = 0; i < p->nmodules; i++) {
		free(p->modules[i].path);
		free(p->modules[i].build_id);
	}
	free(p->modules);
	free(p);
}

size_t profile__bytes(const struct profile *p)
{
	size_t n = p->names_cap * sizeof(*p->names) + p->name_fixed_cap +
		   p->name_slots_cap * sizeof(*p->name_slots) +
		   p->frame_ids_cap * sizeof(*p->frame_ids) + p->stacks_cap * sizeof(*p->stacks) +
		   p->stack_slots_cap * sizeof(*p->stack_slots) + p->kinds_cap +
		   p->cells_cap * sizeof(*p->cells) + p->markers_cap * sizeof(*p->markers) +
		   p->times_cap * sizeof(*p->times) + p->sites_cap * sizeof(*p->sites) +
		   p->modules_cap * sizeof(*p->modules);

	for (size_t i = 0; i < p->nnames; i++)
		n += strlen(p->names[i]) + 1;
	for (size_t i = 0; i < p->nmodules; i++)
		n += strlen(p->modules[i].path) + strlen(p->modules[i].build_id) + 2;
	return n;
}

void profile__replace(struct profile *p, struct profile *with)
{
	struct profile old = *p;

	*p = *with;
	*with = old;
	profile__free(with);
}

uint32_t profile__add_module(struct profile *p, const struct profile_module *m)
{
	for (size_t i = 0; i < p->nmodules; i++) {
		struct profile_module *k = &p->modules[i];

		if (strcmp(k->path, m->path) || strcmp(k->build_id, m->build_id ? m->build_id : ""))
			continue;
		/* Another executable mapping of the same file: one range holds both. */
		if (m->limit > m->start && (k->limit <= k->start || m->start < k->start)) {
			k->offset =
			    k->limit > k->start ? k->offset - (k->start - m->start) : m->offset;
			k->start = m->start;
		}
		if (m->limit > k->limit)
			k->limit = m->limit;
		return (uint32_t)i + 1;
	}
	grow_array((void **)&p->modules, &p->modules_cap, p->nmodules + 1, sizeof(*p->modules));
	p->modules[p->nmodules] = *m;
	p->modules[p->nmodules].path = xstrdup(m->path);
	p->modules[p->nmodules].build_id = xstrdup(m->build_id ? m->build_id : "");
	return (uint32_t)++p->nmodules;
}

const struct profile_module *profile__module(const struct profile *p, uint32_t id)
{
	return id && id <= p->nmodules ? &p->modules[id - 1] : NULL;
}

size_t profile__nmodules(const struct profile *p)
{
	return p->nmodules;
}

uint32_t profile__add_native(struct profile *p, const char *name, uint32_t module, uint64_t addr)
{
	uint32_t id = profile__add_unlisted(p, name);
	size_t old = p->sites_cap;

	grow_array((void **)&p->sites, &p->sites_cap, (size_t)id + 1, sizeof(*p->sites));
	memset(p->sites + old, 0, (p->sites_cap - old) * sizeof(*p->sites));
	p->sites[id] = (struct native_site){ module, addr };
	return id;
}

bool profile__frame_address(const struct profile *p, uint32_t id, uint32_t *module, uint64_t *addr)
{
	if (id >= p->sites_cap || !p->sites[id].module)
		return false;
	*module = p->sites[id].module;
	*addr = p->sites[id].addr;
	return true;
}

void profile__copy_meta(struct profile *dst, const struct profile *src)
{
	dst->meta = src->meta;
	if (src->slice_sec > 0)
		profile__set_timeline(dst, profile__slice_sec(src), src->max_cells);
	dst->invalid_utf8 += src->invalid_utf8;
	dst->markers_dropped += src->markers_dropped;
	dst->markers_dropped_sec += src->markers_dropped_sec;
	dst->times_dropped += src->times_dropped;
}

uint32_t profile__copy_frame(struct profile *dst, const struct profile *src, uint32_t id)
{
	uint32_t module, to;
	uint64_t addr;

	if (profile__frame_address(src, id, &module, &addr))
		to = profile__add_native(dst, src->names[id],
					 profile__add_module(dst, profile__module(src, module)),
					 addr);
	else if (src->name_fixed[id] & NAME_UNLISTED)
		to = profile__add_unlisted(dst, src->names[id]);
	else
		to = profile__intern(dst, src->names[id]);
	if (id < src->kinds_cap && src->kinds[id])
		profile__set_frame_kind(dst, to, (enum frame_kind)(src->kinds[id] - 1));
	return to;
}

void profile__set_frame_kind(struct profile *p, uint32_t id, enum frame_kind k)
{
	size_t old = p->kinds_cap;

	grow_array((void **)&p->kinds, &p->kinds_cap, (size_t)id + 1, 1);
	memset(p->kinds + old, 0, p->kinds_cap - old);
	p->kinds[id] = (unsigned char)(k + 1);
}

enum frame_kind profile__frame_kind(const struct profile *p, uint32_t id)
{
	if (id < p->kinds_cap && p->kinds[id])
		return (enum frame_kind)(p->kinds[id] - 1);
	return frame__kind(profile__frame_name(p, id));
}

static void rehash_names(struct profile *p)
{
	size_t cap = p->name_slots_cap ? p->name_slots_cap * 2 : 1024;

	free(p->name_slots);
	p->name_slots = xcalloc(cap, sizeof(*p->name_slots));
	p->name_slots_cap = cap;
	for (size_t i = 0; i < p->nnames; i++) {
		size_t s = hash_bytes(p->names[i], strlen(p->names[i]), 0) & (cap - 1);

		if (p->name_fixed[i] & NAME_UNLISTED)
			continue;
		while (p->name_slots[s])
			s = (s + 1) & (cap - 1);
		p->name_slots[s] = i + 1;
	}
}

static uint32_t intern_valid(struct profile *p, const char *name, size_t len)
{
	size_t s;

	if ((p->nnames + 1) * 2 > p->name_slots_cap)
		rehash_names(p);
	s = hash_bytes(name, len, 0) & (p->name_slots_cap - 1);
	while (p->name_slots[s]) {
		uint32_t id = p->name_slots[s] - 1;

		if (!strncmp(p->names[id], name, len) && !p->names[id][len])
			return id;
		s = (s + 1) & (p->name_slots_cap - 1);
	}
	grow_array((void **)&p->names, &p->names_cap, p->nnames + 1, sizeof(char *));
	p->names[p->nnames] = xmalloc(len + 1);
	memcpy(p->names[p->nnames], name, len);
	p->names[p->nnames][len] = '\0';
	grow_array((void **)&p->name_fixed, &p->name_fixed_cap, p->nnames + 1, 1);
	p->name_fixed[p->nnames] = 0;
	p->name_slots[s] = p->nnames + 1;
	return p->nnames++;
}

uint32_t profile__intern_len(struct profile *p, const char *name, size_t len)
{
	char *clean;
	uint32_t id;

	if (utf8_valid_len(name, len) == len)
		return intern_valid(p, name, len);
	clean = utf8_sanitize_dup(name, len, NULL);
	id = intern_valid(p, clean, strlen(clean));
	free(clean);
	if (!(p->name_fixed[id] & NAME_FIXED)) {
		p->name_fixed[id] |= NAME_FIXED;
		p->invalid_utf8++;
	}
	return id;
}

uint32_t profile__add_unlisted(struct profile *p, const char *name)
{
	size_t len = strlen(name);
	char *clean =
	    utf8_valid_len(name, len) == len ? xstrdup(name) : utf8_sanitize_dup(name, len, NULL);

	grow_array((void **)&p->names, &p->names_cap, p->nnames + 1, sizeof(char *));
	p->names[p->nnames] = clean;
	grow_array((void **)&p->name_fixed, &p->name_fixed_cap, p->nnames + 1, 1);
	p->name_fixed[p->nnames] = NAME_UNLISTED;
	if (strcmp(clean, name)) {
		p->name_fixed[p->nnames] |= NAME_FIXED;
		p->invalid_utf8++;
	}
	return p->nnames++;
}

uint32_t profile__intern(struct profile *p, const char *name)
{
	return profile__intern_len(p, name, strlen(name));
}

size_t profile__invalid_utf8(const struct profile *p)
{
	return p->invalid_utf8;
}

const char *profile__frame_name(const struct profile *p, uint32_t id)
{
	return id < p->nnames ? p->names[id] : "[invalid]";
}

size_t profile__nframes(const struct profile *p)
{
	return p->nnames;
}

static void place_name(struct profile *p, uint32_t id)
{
	size_t mask = p->name_slots_cap - 1;
	size_t s = hash_bytes(p->names[id], strlen(p->names[id]), 0) & mask;

	while (p->name_slots[s])
		s = (s + 1) & mask;
	p->name_slots[s] = id + 1;
}

void profile__rename_frame(struct profile *p, uint32_t id, const char *name)
{
	size_t mask = p->name_slots_cap - 1, s;

	if (id >= p->nnames || !strcmp(p->names[id], name))
		return;
	if (p->name_fixed[id] & NAME_UNLISTED) {
		free(p->names[id]);
		p->names[id] = xstrdup(name);
		return;
	}
	/* Out of the table (linear probing: the run after the freed slot is
	 * placed again), renamed, back in.
	 */
	s = hash_bytes(p->names[id], strlen(p->names[id]), 0) & mask;
	while (p->name_slots[s] != id + 1)
		s = (s + 1) & mask;
	p->name_slots[s] = 0;
	for (s = (s + 1) & mask; p->name_slots[s]; s = (s + 1) & mask) {
		uint32_t moved = p->name_slots[s] - 1;

		p->name_slots[s] = 0;
		place_name(p, moved);
	}
	free(p->names[id]);
	p->names[id] = xstrdup(name);
	place_name(p, id);
}

static void rehash_stacks(struct profile *p)
{
	size_t cap = p->stack_slots_cap ? p->stack_slots_cap * 2 : 1024;

	free(p->stack_slots);
	p->stack_slots = xcalloc(cap, sizeof(*p->stack_slots));
	p->stack_slots_cap = cap;
	for (size_t i = 0; i < p->nstacks; i++) {
		size_t s = p->stacks[i].hash & (cap - 1);

		while (p->stack_slots[s])
			s = (s + 1) & (cap - 1);
		p->stack_slots[s] = i + 1;
	}
}

size_t profile__add(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight)
{
	uint64_t h = hash_bytes(frames, n * sizeof(*frames), n);
	struct stack_rec *r;
	size_t s;

	p->total += weight;
	if ((p->nstacks + 1) * 2 > p->stack_slots_cap)
		rehash_stacks(p);
	s = h & (p->stack_slots_cap - 1);
	while (p->stack_slots[s]) {
		r = &p->stacks[p->stack_slots[s] - 1];
		if (r->hash == h && r->n == n &&
		    !memcmp(p->frame_ids + r->frames_off, frames, n * sizeof(*frames))) {
			r->weight += weight;
			return (size_t)(r - p->stacks);
		}
		s = (s + 1) & (p->stack_slots_cap - 1);
	}
	grow_array((void **)&p->frame_ids, &p->frame_ids_cap, p->nframe_ids + n,
		   sizeof(*p->frame_ids));
	memcpy(p->frame_ids + p->nframe_ids, frames, n * sizeof(*frames));
	grow_array((void **)&p->stacks, &p->stacks_cap, p->nstacks + 1, sizeof(*p->stacks));
	p->stacks[p->nstacks] = (struct stack_rec){ p->nframe_ids, n, 0, weight, h };
	p->nframe_ids += n;
	p->stack_slots[s] = ++p->nstacks;
	return p->nstacks - 1;
}

void profile__set_timeline(struct profile *p, double slice_sec, size_t max_cells)
{
	p->slice_sec = slice_sec > 0 ? slice_sec : 0;
	p->max_cells = max_cells ? max_cells : PROFILE_MAX_SLICE_CELLS;
}

double profile__slice_sec(const struct profile *p)
{
	return p->slice_sec * (double)(1u << p->shift);
}

uint32_t profile__nslices(const struct profile *p)
{
	return p->nslices;
}

/* Slices twice as wide: each stack's neighbours merged (its list is in
 * slice order, so they are next to each other), their cells freed.
 */
static void coarsen(struct profile *p)
{
	p->shift++;
	p->nslices = (p->nslices + 1) / 2;
	for (size_t i = 0; i < p->nstacks; i++) {
		uint32_t prev = 0, c = p->stacks[i].cells;

		while (c) {
			struct slice_cell *cell = &p->cells[c - 1];

			cell->slice >>= 1;
			if (prev && p->cells[prev - 1].slice == cell->slice) {
				uint32_t next = cell->next;

				p->cells[prev - 1].weight += cell->weight;
				p->cells[prev - 1].next = next;
				cell->next = p->free_cell;
				p->free_cell = c;
				p->cells_used--;
				c = next;
				continue;
			}
			prev = c;
			c = cell->next;
		}
	}
}

static uint32_t new_cell(struct profile *p)
{
	uint32_t c = p->free_cell;

	if (c) {
		p->free_cell = p->cells[c - 1].next;
	} else {
		grow_array((void **)&p->cells, &p->cells_cap, p->ncells + 1, sizeof(*p->cells));
		c = (uint32_t)++p->ncells;
	}
	p->cells_used++;
	return c;
}

void profile__add_slice(struct profile *p, size_t i, uint32_t slice, uint64_t weight)
{
	struct stack_rec *r = &p->stacks[i];
	uint32_t *link = &r->cells, c;

	if (!p->slice_sec || !weight)
		return;
	slice >>= p->shift;
	/* Usually the head: the slice being filled now. */
	while (*link && p->cells[*link - 1].slice > slice)
		link = &p->cells[*link - 1].next;
	if (*link && p->cells[*link - 1].slice == slice) {
		p->cells[*link - 1].weight += weight;
		p->timed += weight;
		return;
	}
	/* A new cell over the bound: coarser slices, while that frees cells
	 * (a stack with one cell has none to merge; those grow with the stacks).
	 */
	while (p->cells_used >= p->max_cells + p->nstacks && p->cells_used > p->nstacks) {
		size_t before = p->cells_used;

		coarsen(p);
		slice >>= 1;
		if (p->cells_used == before)
			break;
	}
	link = &r->cells;
	while (*link && p->cells[*link - 1].slice > slice)
		link = &p->cells[*link - 1].next;
	if (*link && p->cells[*link - 1].slice == slice) {
		p->cells[*link - 1].weight += weight;
	} else {
		c = new_cell(p);
		p->cells[c - 1] = (struct slice_cell){ slice, *link, weight };
		*link = c;
	}
	if (slice + 1 > p->nslices)
		p->nslices = slice + 1;
	p->timed += weight;
}

size_t profile__add_at(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight,
		       uint32_t slice)
{
	size_t i = profile__add(p, frames, n, weight);

	profile__add_slice(p, i, slice, weight);
	return i;
}

bool profile__stack_slice(const struct profile *p, size_t i, uint32_t *cursor, uint32_t *slice,
			  uint64_t *weight)
{
	uint32_t c = *cursor ? p->cells[*cursor - 1].next : p->stacks[i].cells;

	if (!c)
		return false;
	*cursor = c;
	*slice = p->cells[c - 1].slice;
	*weight = p->cells[c - 1].weight;
	return true;
}

void profile__timeline_stats(const struct profile *p, struct profile_timeline_stats *st)
{
	st->cells = p->cells_used;
	st->max_cells = p->max_cells;
	st->coarsened = p->shift;
	st->untimed = p->slice_sec ? p->total - p->timed : 0;
}

/* Stack i's cells of p in slices first..last into stack at of out,
 * renumbered from first, in their order; the weight copied.
 */
static uint64_t copy_cells(struct profile *out, size_t at, const struct profile *p, size_t i,
			   uint32_t first, uint32_t last)
{
	/* Two frames of one name (renamed) may make two stacks one. */
	bool merged = out->stacks[at].cells != 0;
	uint32_t tail = 0;
	uint64_t sum = 0;

	for (uint32_t c = p->stacks[i].cells; c; c = p->cells[c - 1].next) {
		struct slice_cell cell = p->cells[c - 1];
		uint32_t nc;

		if (cell.slice < first || cell.slice > last)
			continue;
		sum += cell.weight;
		/* Into a stack with cells, or slices made wider meanwhile: one by
		 * one, in out's base units (src's slices now).
		 */
		if (merged || out->shift) {
			profile__add_slice(out, at, cell.slice - first, cell.weight);
			continue;
		}
		out->timed += cell.weight;
		nc = new_cell(out);
		out->cells[nc - 1] = (struct slice_cell){ cell.slice - first, 0, cell.weight };
		if (tail)
			out->cells[tail - 1].next = nc;
		else
			out->stacks[at].cells = nc;
		tail = nc;
		if (cell.slice - first + 1 > out->nslices)
			out->nslices = cell.slice - first + 1;
	}
	return sum;
}

void profile__copy_slices(struct profile *dst, size_t at, const struct profile *src, size_t i)
{
	if (dst->slice_sec && src->slice_sec)
		copy_cells(dst, at, src, i, 0, UINT32_MAX);
}

struct profile *profile__window(const struct profile *p, uint32_t first, uint32_t last)
{
	struct profile *out = profile__new();
	uint32_t *map = xmalloc((p->nnames ? p->nnames : 1) * sizeof(*map)), *frames = NULL;
	size_t fcap = 0;

	out->meta = p->meta;
	{
		/* The last slice may run past the profile's end: not its time. */
		double w = profile__slice_sec(p), from = first * w, to = (last + 1) * w;

		if (p->meta.duration_sec > 0 && to > p->meta.duration_sec)
			to = p->meta.duration_sec;
		out->meta.duration_sec = to > from ? to - from : 0;
	}
	profile__set_timeline(out, profile__slice_sec(p), p->max_cells);
	for (size_t i = 0; i < p->nnames; i++)
		map[i] = profile__copy_frame(out, p, (uint32_t)i);
	out->invalid_utf8 = p->invalid_utf8;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct stack_rec *r = &p->stacks[i];
		uint32_t c = r->cells;
		uint64_t w;
		size_t at;

		while (c && (p->cells[c - 1].slice < first || p->cells[c - 1].slice > last))
			c = p->cells[c - 1].next;
		if (!c)
			continue;
		grow_array((void **)&frames, &fcap, r->n ? r->n : 1, sizeof(*frames));
		for (uint32_t j = 0; j < r->n; j++)
			frames[j] = map[p->frame_ids[r->frames_off + j]];
		at = profile__add(out, frames, r->n, 0);
		w = copy_cells(out, at, p, i, first, last);
		out->stacks[at].weight += w;
		out->total += w;
	}
	{
		double w = profile__slice_sec(p);

		profile__copy_markers(out, p, map, first * w, 0, (last + 1 - first) * w);
	}
	free(frames);
	free(map);
	return out;
}

bool profile__add_marker(struct profile *p, const struct profile_marker *m)
{
	if (p->nmarkers >= PROFILE_MAX_MARKERS) {
		p->markers_dropped++;
		p->markers_dropped_sec += m->waited;
		return false;
	}
	grow_array((void **)&p->markers, &p->markers_cap, p->nmarkers + 1, sizeof(*p->markers));
	p->markers[p->nmarkers++] = *m;
	return true;
}

const struct profile_marker *profile__markers(const struct profile *p, size_t *n)
{
	*n = p->nmarkers;
	return p->markers;
}

uint64_t profile__markers_dropped(const struct profile *p)
{
	return p->markers_dropped;
}

double profile__markers_dropped_sec(const struct profile *p)
{
	return p->markers_dropped_sec;
}

void profile__markers_lost(struct profile *p, uint64_t n, double sec)
{
	p->markers_dropped += n;
	p->markers_dropped_sec += sec;
}

void profile__copy_markers(struct profile *dst, const struct profile *src, const uint32_t *map,
			   double shift, double from, double to)
{
	dst->markers_dropped += src->markers_dropped;
	dst->markers_dropped_sec += src->markers_dropped_sec;
	for (size_t i = 0; i < src->nmarkers; i++) {
		struct profile_marker m = src->markers[i];
		double span = m.end - m.start;

		m.start -= shift;
		m.end -= shift;
		if (m.end <= from || m.start >= to)
			continue;
		if (m.start < from)
			m.start = from;
		if (m.end > to)
			m.end = to;
		/* A merged marker cut by the window: which of its waits fell
		 * inside is not known, its total is cut in proportion (merged
		 * markers lie within a slice, and windows are whole slices: only
		 * a window inside a coarsened slice cuts one).
		 */
		if (m.flags & PROFILE_MARKER_MERGED)
			m.waited = span > 0 ? m.waited * (m.end - m.start) / span : 0;
		else
			m.waited = m.end - m.start;
		for (uint32_t j = 0; map && j < m.nframes; j++)
			m.frames[j] = map[m.frames[j]];
		if (map && m.top != UINT32_MAX)
			m.top = map[m.top];
		if (map && m.leaf != UINT32_MAX)
			m.leaf = map[m.leaf];
		profile__add_marker(dst, &m);
	}
}

bool profile__add_sample_time(struct profile *p, size_t stack, double t)
{
	if (p->ntimes >= PROFILE_MAX_SAMPLE_TIMES) {
		p->times_dropped++;
		return false;
	}
	grow_array((void **)&p->times, &p->times_cap, p->ntimes + 1, sizeof(*p->times));
	p->times[p->ntimes++] = (struct profile_sample_time){ t, (uint32_t)stack };
	return true;
}

const struct profile_sample_time *profile__sample_times(const struct profile *p, size_t *n)
{
	*n = p->ntimes;
	return p->times;
}

uint64_t profile__sample_times_dropped(const struct profile *p)
{
	return p->times_dropped;
}

void profile__copy_sample_times(struct profile *dst, const struct profile *src, const size_t *map)
{
	dst->times_dropped += src->times_dropped;
	for (size_t i = 0; i < src->ntimes; i++)
		profile__add_sample_time(dst, map[src->times[i].stack], src->times[i].t);
}

const char *profile_marker__name(enum profile_marker_kind k)
{
	static const char *const names[MARKER_KIND_MAX] = {
		[MARKER_OFFCPU_BLOCKED] = "Off-CPU: blocked",
		[MARKER_OFFCPU_RUNNABLE] = "Off-CPU: waiting for a CPU",
		[MARKER_GIL_WAIT] = "Waiting for the GIL",
	};

	return k < MARKER_KIND_MAX ? names[k] : "?";
}

const char *profile_marker__label(const struct profile_marker *m)
{
	static const char *const merged[MARKER_KIND_MAX] = {
		[MARKER_OFFCPU_BLOCKED] = "Off-CPU: blocked (short waits merged)",
		[MARKER_OFFCPU_RUNNABLE] = "Off-CPU: waiting for a CPU (short waits merged)",
		[MARKER_GIL_WAIT] = "Waiting for the GIL (short waits merged)",
	};

	if (m->kind >= MARKER_KIND_MAX)
		return "?";
	return m->flags & PROFILE_MARKER_MERGED ? merged[m->kind] : profile_marker__name(m->kind);
}

size_t profile__nstacks(const struct profile *p)
{
	return p->nstacks;
}

const uint32_t *profile__stack(const struct profile *p, size_t i, uint32_t *n, uint64_t *weight)
{
	const struct stack_rec *r = &p->stacks[i];

	*n = r->n;
	*weight = r->weight;
	return p->frame_ids + r->frames_off;
}

uint64_t profile__total(const struct profile *p)
{
	return p->total;
}

struct profile_meta *profile__meta(struct profile *p)
{
	return &p->meta;
}

const struct profile_meta *profile__meta_ro(const struct profile *p)
{
	return &p->meta;
}

static int has_sub(const char *s, size_t len, const char *sub)
{
	size_t n = strlen(sub);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(s + i, sub, n))
			return 1;
	return 0;
}

/* A compiled language's source file (a native frame's file:line from DWARF):
 * no Python code object is run from one.
 */
static int is_native_source(const char *f, size_t len)
{
	static const char *const exts[] = { ".c",   ".h",   ".cc",  ".cpp", ".cxx", ".hh", ".hpp",
					    ".hxx", ".inc", ".inl", ".C",   ".H",   ".rs", ".S",
					    ".s",   ".go",  ".zig", ".pyx", ".pxd", ".pxi" };

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t n = strlen(exts[i]);

		if (len > n && !memcmp(f + len - n, exts[i], n))
			return 1;
	}
	return 0;
}

/* "qualname (file)" with the line merged away (--no-lines, austin without
 * lines): a Python frame when the file is one, line 0; a native frame's
 * file too (the parts serve every writer; frame__kind tells them apart).
 */
static int parse_python_no_line(const char *name, size_t len, struct frame_py *out)
{
	const char *open = strstr(name, " ("), *file, *end = name + len - 1;
	size_t flen;

	if (!open || open == name)
		return 0;
	file = open + 2;
	flen = (size_t)(end - file);
	if (!((flen > 3 && !memcmp(end - 3, ".py", 3)) ||
	      (flen > 8 && !memcmp(file, "<frozen ", 8) && end[-1] == '>') ||
	      is_native_source(file, flen)))
		return 0;
	out->qualname = name;
	out->qualname_len = (size_t)(open - name);
	out->file = file;
	out->file_len = flen;
	out->line = 0;
	return 1;
}

int frame__parse_python(const char *name, struct frame_py *out)
{
	size_t len = strlen(name);
	const char *open, *colon, *end = name + len - 1;
	unsigned long line = 0;

	if (len < 6 || *end != ')')
		return 0;
	colon = end;
	while (colon > name && colon[-1] >= '0' && colon[-1] <= '9')
		colon--;
	if (colon == end || colon <= name || *--colon != ':')
		return parse_python_no_line(name, len, out);
	for (const char *d = colon + 1; d < end; d++)
		line = line * 10 + (unsigned long)(*d - '0');
	/* Either side may hold " (" (a path "My Project (old)/x.py", a name
	 * set with code.replace()): split at the first " (" after which the
	 * path's parentheses balance.
	 */
	for (open = strstr(name, " ("); open; open = strstr(open + 1, " (")) {
		int depth = 0;

		for (const char *c = open + 2; c < colon && depth >= 0; c++)
			depth += *c == '(' ? 1 : *c == ')' ? -1 : 0;
		if (depth == 0)
			break;
	}
	if (!open || open == name || open + 2 >= colon)
		return 0;
	out->qualname = name;
	out->qualname_len = (size_t)(open - name);
	out->file = open + 2;
	out->file_len = (size_t)(colon - open - 2);
	out->line = line;
	return 1;
}

static int is_stdlib_path(const char *f, size_t len)
{
	if (len > 8 && !memcmp(f, "<frozen ", 8))
		return 1;
	for (size_t i = 0; i + 11 <= len; i++) {
		size_t j;

		if (memcmp(f + i, "lib/python3", 11) || (i && f[i - 1] != '/'))
			continue;
		j = i + 11;
		if (j < len && f[j] == '.')
			j++;
		while (j < len && f[j] >= '0' && f[j] <= '9')
			j++;
		/* Free-threaded builds: lib/python3.13t/ */
		if (j < len && f[j] == 't')
			j++;
		if (j < len && f[j] == '/')
			return 1;
	}
	return 0;
}

enum frame_kind frame__kind(const char *name)
{
	size_t len = strlen(name);
	struct frame_py py;

	if (len >= 4 && !strcmp(name + len - 4, "_[k]"))
		return FRAME_KERNEL;
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']' && strcmp(name, "[vdso]")) {
		if (!strcmp(name, "[off-cpu]") || !strcmp(name, "[runqueue]") ||
		    !strncmp(name, "[asleep", 7))
			return FRAME_OFFCPU;
		return FRAME_SYNTHETIC;
	}
	if (!frame__parse_python(name, &py) || is_native_source(py.file, py.file_len))
		return FRAME_NATIVE;
	if (has_sub(py.file, py.file_len, "site-packages") ||
	    has_sub(py.file, py.file_len, "dist-packages"))
		return FRAME_PY_SITE;
	if (is_stdlib_path(py.file, py.file_len))
		return FRAME_PY_STDLIB;
	return FRAME_PY_USER;
}

const char *frame_kind__name(enum frame_kind k)
{
	static const char *const names[] = {
		[FRAME_PY_USER] = "python",	   [FRAME_PY_STDLIB] = "stdlib",
		[FRAME_PY_SITE] = "site-packages", [FRAME_NATIVE] = "native",
		[FRAME_KERNEL] = "kernel",	   [FRAME_OFFCPU] = "off-CPU",
		[FRAME_SYNTHETIC] = "not named",
	};

	return k < FRAME_KIND_MAX ? names[k] : "?";
}

int frame__is_thread(const char *name, unsigned long *num)
{
	const char *dash = strrchr(name, '-'), *d;
	unsigned long v = 0;

	if (!dash || dash == name || !dash[1])
		return 0;
	for (d = dash + 1; *d; d++) {
		if (*d < '0' || *d > '9' || v > (~0UL - 9) / 10)
			return 0;
		v = v * 10 + (unsigned long)(*d - '0');
	}
	if (num)
		*num = v;
	return 1;
}

int profile__stack_thread(const struct profile *p, const uint32_t *frames, uint32_t n,
			  unsigned long *tid)
{
	uint32_t d = 1;

	if (p->meta.groups_known) {
		if (!(p->meta.groups & PROFILE_GROUP_THREAD))
			return 0;
		if (p->meta.groups & PROFILE_GROUP_PROCESS)
			d = 2;
	}
	/* The leaf is never the thread frame: a stack has frames under it. */
	if (n < d + 1 || !frame__is_thread(profile__frame_name(p, frames[d]), tid))
		return 0;
	return (int)d;
}

int profile__stack_process(const struct profile *p, const uint32_t *frames, uint32_t n,
			   unsigned long *pid)
{
	if (!p->meta.groups_known || !(p->meta.groups & PROFILE_GROUP_PROCESS) || n < 2 ||
	    !frame__is_thread(profile__frame_name(p, frames[1]), pid))
		return 0;
	return 1;
}

void profile__usage_modes(FILE *f, const char *opt, const char *def)
{
	char text[256];
	bool first = true;

	for (size_t i = 0; i < profile_nmodes; i++) {
		const struct profile_mode *m = &profile_modes[i];

		if (!m->record)
			continue;
		snprintf(text, sizeof(text), "%s: %s, counts are %s%s", m->name, m->words, m->unit,
			 def && !strcmp(def, m->name) ? " (default)" : "");
		help_option(f, first ? opt : NULL, text);
		first = false;
	}
}
