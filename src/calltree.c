// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "util.h"

/* A stack of a slot, where its profile keeps it. */
struct ct_stack {
	const uint32_t *frames; /* ids of the slot's profile, n of them */
	uint32_t n;
	uint32_t index; /* in the slot's profile */
};

struct ct_slot {
	const struct profile *p;
	/* Per frame id of p: its names id (calltree__add), then the rank of
	 * that id in name order (calltree__sort), the sort key.
	 */
	uint32_t *key;
	size_t nkeys;
	struct ct_stack *stacks; /* of non-zero weight; in tree order once sorted */
	uint64_t *cum;		 /* cum[i]: weight of stacks[0..i), n + 1 of them */
	size_t n;
};

struct calltree {
	struct profile *names;
	struct ct_slot slot[2];
	uint32_t *byrank; /* rank in name order -> names id */
	int sorted;
};

struct calltree *calltree__new(struct profile *names)
{
	struct calltree *t = xcalloc(1, sizeof(*t));

	t->names = names;
	return t;
}

void calltree__free(struct calltree *t)
{
	if (!t)
		return;
	for (int s = 0; s < 2; s++) {
		free(t->slot[s].key);
		free(t->slot[s].stacks);
		free(t->slot[s].cum);
	}
	free(t->byrank);
	free(t);
}

uint32_t *profile__map_frames(const struct profile *p, struct profile *names)
{
	size_t n = profile__nframes(p);
	uint32_t *map = xmalloc((n ? n : 1) * sizeof(*map));

	for (size_t i = 0; i < n; i++)
		map[i] = p == names ? (uint32_t)i
				    : profile__intern(names, profile__frame_name(p, (uint32_t)i));
	return map;
}

uint32_t *profile__map_functions(const struct profile *p, struct profile *names)
{
	size_t n = profile__nframes(p);
	uint32_t *map = xmalloc((n ? n : 1) * sizeof(*map));
	char *buf = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = profile__frame_name(p, (uint32_t)i);
		struct frame_py py;
		size_t len;

		if (!frame__parse_python(name, &py)) {
			map[i] = profile__intern(names, name);
			continue;
		}
		len = (size_t)(py.file + py.file_len - name);
		grow_array((void **)&buf, &cap, len + 2, 1);
		memcpy(buf, name, len);
		buf[len] = ')';
		buf[len + 1] = '\0';
		map[i] = profile__intern(names, buf);
	}
	free(buf);
	return map;
}

void calltree__add(struct calltree *t, const struct profile *p, int slot)
{
	struct ct_slot *s = &t->slot[slot];
	size_t ns = profile__nstacks(p);

	s->p = p;
	s->key = profile__map_frames(p, t->names);
	s->nkeys = profile__nframes(p);
	s->stacks = xmalloc((ns ? ns : 1) * sizeof(*s->stacks));
	s->n = 0;
	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);

		if (w)
			s->stacks[s->n++] = (struct ct_stack){ frames, n, (uint32_t)i };
	}
	t->sorted = 0;
}

static int cmp_name(const void *a, const void *b, void *names)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(profile__frame_name(names, x), profile__frame_name(names, y));

	return c ? c : x < y ? -1 : x > y;
}

/* Frame by frame by key, a stack before the longer ones it is a prefix of;
 * equal stacks (two ids of p can have one name) in profile order.
 */
static int cmp_stack(const void *a, const void *b, void *key)
{
	const struct ct_stack *x = a, *y = b;
	const uint32_t *k = key;
	uint32_t n = x->n < y->n ? x->n : y->n;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t kx = k[x->frames[j]], ky = k[y->frames[j]];

		if (kx != ky)
			return kx < ky ? -1 : 1;
	}
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void calltree__sort(struct calltree *t)
{
	size_t nf = profile__nframes(t->names);
	uint32_t *rank;

	if (t->sorted)
		return;
	free(t->byrank);
	t->byrank = xmalloc((nf ? nf : 1) * sizeof(*t->byrank));
	rank = xmalloc((nf ? nf : 1) * sizeof(*rank));
	for (size_t i = 0; i < nf; i++)
		t->byrank[i] = (uint32_t)i;
	qsort_r(t->byrank, nf, sizeof(*t->byrank), cmp_name, t->names);
	for (size_t i = 0; i < nf; i++)
		rank[t->byrank[i]] = (uint32_t)i;
	for (int slot = 0; slot < 2; slot++) {
		struct ct_slot *s = &t->slot[slot];
		size_t in_order = 1;

		if (!s->p)
			continue;
		for (size_t i = 0; i < s->nkeys; i++)
			s->key[i] = rank[s->key[i]];
		/* Sorted input (FlameGraph's, ours) is nearly always in this
		 * order already: one comparison per stack tells.
		 */
		while (in_order < s->n &&
		       cmp_stack(&s->stacks[in_order - 1], &s->stacks[in_order], s->key) < 0)
			in_order++;
		if (in_order < s->n)
			qsort_r(s->stacks, s->n, sizeof(*s->stacks), cmp_stack, s->key);
		free(s->cum);
		s->cum = xmalloc((s->n + 1) * sizeof(*s->cum));
		s->cum[0] = 0;
		for (size_t i = 0; i < s->n; i++) {
			uint32_t n;
			uint64_t w;

			profile__stack(s->p, s->stacks[i].index, &n, &w);
			s->cum[i + 1] = s->cum[i] + w;
		}
	}
	free(rank);
	t->sorted = 1;
}

/* Whether stack i of s is in the run that starts at lo: with want CT_NONE,
 * the stacks of depth frames (a node's own, before its children's); else
 * those whose frame at depth has rank want (one child's).
 */
static inline int in_run(const struct ct_slot *s, size_t i, uint32_t depth, uint32_t want)
{
	const struct ct_stack *st = &s->stacks[i];

	if (want == CT_NONE)
		return st->n == depth;
	return st->n > depth && s->key[st->frames[depth]] == want;
}

/* Where the run from lo stops within [lo, end): lo when it is empty. The
 * search gallops, so a run of k stacks costs O(log k) probes.
 */
static uint32_t run_end(const struct ct_slot *s, uint32_t lo, uint32_t end, uint32_t depth,
			uint32_t want)
{
	size_t ok = lo, bad, step = 1;

	if (lo >= end || !in_run(s, lo, depth, want))
		return lo;
	/* in_run(ok) holds; then in_run(bad) fails or bad == end. */
	while (ok + step < end && in_run(s, ok + step, depth, want)) {
		ok += step;
		step *= 2;
	}
	bad = ok + step < end ? ok + step : end;
	while (bad - ok > 1) {
		size_t mid = ok + (bad - ok) / 2;

		if (in_run(s, mid, depth, want))
			ok = mid;
		else
			bad = mid;
	}
	return (uint32_t)bad;
}

static void set_weights(const struct calltree *t, struct calltree_node *nd)
{
	for (int slot = 0; slot < 2; slot++) {
		const struct ct_slot *s = &t->slot[slot];
		uint32_t own;

		nd->total[slot] = nd->self[slot] = 0;
		if (nd->lo[slot] == nd->hi[slot])
			continue;
		own = run_end(s, nd->lo[slot], nd->hi[slot], nd->depth, CT_NONE);
		nd->total[slot] = s->cum[nd->hi[slot]] - s->cum[nd->lo[slot]];
		nd->self[slot] = s->cum[own] - s->cum[nd->lo[slot]];
	}
}

void calltree__root(const struct calltree *t, struct calltree_node *root)
{
	memset(root, 0, sizeof(*root));
	root->frame = CT_NONE;
	for (int slot = 0; slot < 2; slot++)
		root->hi[slot] = root->end[slot] = (uint32_t)t->slot[slot].n;
	set_weights(t, root);
}

/* nd's run begins at lo in each slot, up to end: the child there, the
 * lowest frame of the slots' next stacks. 0 when none is left.
 */
static int take_child(const struct calltree *t, struct calltree_node *nd)
{
	uint32_t d = nd->depth - 1, want = CT_NONE;

	for (int slot = 0; slot < 2; slot++) {
		const struct ct_slot *s = &t->slot[slot];
		const struct ct_stack *st;

		if (nd->lo[slot] >= nd->end[slot])
			continue;
		st = &s->stacks[nd->lo[slot]];
		if (want == CT_NONE || s->key[st->frames[d]] < want)
			want = s->key[st->frames[d]];
	}
	if (want == CT_NONE)
		return 0;
	for (int slot = 0; slot < 2; slot++)
		nd->hi[slot] = run_end(&t->slot[slot], nd->lo[slot], nd->end[slot], d, want);
	nd->frame = t->byrank[want];
	set_weights(t, nd);
	return 1;
}

int calltree__first_child(const struct calltree *t, const struct calltree_node *nd,
			  struct calltree_node *child)
{
	child->depth = nd->depth + 1;
	for (int slot = 0; slot < 2; slot++) {
		/* Past nd's own stacks, which are as deep as nd. */
		child->lo[slot] =
		    run_end(&t->slot[slot], nd->lo[slot], nd->hi[slot], nd->depth, CT_NONE);
		child->end[slot] = nd->hi[slot];
	}
	return take_child(t, child);
}

int calltree__next_sibling(const struct calltree *t, struct calltree_node *nd)
{
	for (int slot = 0; slot < 2; slot++)
		nd->lo[slot] = nd->hi[slot];
	return take_child(t, nd);
}

uint32_t calltree__path_frame(const struct calltree *t, const struct calltree_node *nd, uint32_t i)
{
	int slot = nd->lo[0] < nd->hi[0] ? 0 : 1;
	const struct ct_slot *s = &t->slot[slot];

	return t->byrank[s->key[s->stacks[nd->lo[slot]].frames[i]]];
}

/* Frames in common of the walk's stack (ranks) and stack i of s. */
static uint32_t common_ranks(const struct ct_slot *s, size_t i, const uint32_t *ranks, uint32_t n)
{
	const struct ct_stack *st = &s->stacks[i];
	uint32_t j = 0;

	while (j < n && j < st->n && s->key[st->frames[j]] == ranks[j])
		j++;
	return j;
}

/* Stack x of a against stack y of b, as cmp_stack orders them, ties apart. */
static int cmp_across(const struct ct_slot *a, size_t x, const struct ct_slot *b, size_t y)
{
	const struct ct_stack *sx = &a->stacks[x], *sy = &b->stacks[y];
	uint32_t n = sx->n < sy->n ? sx->n : sy->n;

	for (uint32_t j = 0; j < n; j++) {
		uint32_t kx = a->key[sx->frames[j]], ky = b->key[sy->frames[j]];

		if (kx != ky)
			return kx < ky ? -1 : 1;
	}
	return sx->n < sy->n ? -1 : sx->n > sy->n;
}

void calltree__walk_start(const struct calltree *t, struct calltree_walk *w)
{
	(void)t;
	memset(w, 0, sizeof(*w));
}

int calltree__walk_next(const struct calltree *t, struct calltree_walk *w)
{
	const struct ct_slot *s0 = &t->slot[0], *s1 = &t->slot[1];
	int has0 = w->pos[0] < s0->n, has1 = w->pos[1] < s1->n, c;
	const struct ct_slot *s;
	const struct ct_stack *st;
	uint32_t prev_n = w->n, j = 0;

	if (!has0 && !has1)
		return 0;
	c = !has1 ? -1 : !has0 ? 1 : cmp_across(s0, w->pos[0], s1, w->pos[1]);
	s = c <= 0 ? s0 : s1;
	st = &s->stacks[c <= 0 ? w->pos[0] : w->pos[1]];

	/* The stack, names ids and ranks; what it shares with the previous one. */
	grow_array((void **)&w->buf, &w->buf_cap, st->n ? st->n : 1, sizeof(*w->buf));
	grow_array((void **)&w->ranks, &w->ranks_cap, st->n ? st->n : 1, sizeof(*w->ranks));
	while (j < prev_n && j < st->n && w->ranks[j] == s->key[st->frames[j]])
		j++;
	w->common = j;
	for (; j < st->n; j++) {
		w->ranks[j] = s->key[st->frames[j]];
		w->buf[j] = t->byrank[w->ranks[j]];
	}
	w->frames = w->buf;
	w->n = st->n;

	for (int slot = 0; slot < 2; slot++) {
		const struct ct_slot *o = &t->slot[slot];
		size_t i = w->pos[slot];

		w->self[slot] = 0;
		w->first[slot] = CT_NONE;
		if (slot == 0 ? c > 0 : c < 0) {
			/* Not in this slot: how deep its neighbours there go along it. */
			uint32_t in = i ? common_ranks(o, i - 1, w->ranks, w->n) : 0;

			if (i < o->n) {
				uint32_t next = common_ranks(o, i, w->ranks, w->n);

				if (next > in)
					in = next;
			}
			w->in[slot] = in;
			continue;
		}
		while (i < o->n && o->stacks[i].n == w->n &&
		       common_ranks(o, i, w->ranks, w->n) == w->n) {
			if (o->stacks[i].index < w->first[slot])
				w->first[slot] = o->stacks[i].index;
			i++;
		}
		w->self[slot] = o->cum[i] - o->cum[w->pos[slot]];
		w->in[slot] = w->n;
		w->pos[slot] = i;
	}
	return 1;
}

void calltree__walk_free(struct calltree_walk *w)
{
	free(w->buf);
	free(w->ranks);
	w->buf = w->ranks = NULL;
	w->buf_cap = w->ranks_cap = 0;
}

static void fs_grow(struct funcstats *fs, size_t n)
{
	size_t old = fs->cap;

	if (n <= fs->cap)
		return;
	for (int s = 0; s < 2; s++) {
		size_t c = old;

		grow_array((void **)&fs->self[s], &c, n, sizeof(uint64_t));
		c = old;
		grow_array((void **)&fs->total[s], &c, n, sizeof(uint64_t));
		fs->cap = c;
	}
	for (int s = 0; s < 2; s++) {
		memset(fs->self[s] + old, 0, (fs->cap - old) * sizeof(uint64_t));
		memset(fs->total[s] + old, 0, (fs->cap - old) * sizeof(uint64_t));
	}
}

/* Per frame id of p: 1 for a Python frame (its kind read once per call). */
static uint8_t *python_frames(const struct profile *p)
{
	size_t nf = profile__nframes(p);
	uint8_t *py = xmalloc(nf ? nf : 1);

	for (size_t i = 0; i < nf; i++) {
		enum frame_kind k = profile__frame_kind(p, (uint32_t)i);

		py[i] = k == FRAME_PY_USER || k == FRAME_PY_STDLIB || k == FRAME_PY_SITE;
	}
	return py;
}

void funcstats__add(struct funcstats *fs, const struct profile *p, struct profile *names, int slot)
{
	uint32_t *map =
	    fs->by_function ? profile__map_functions(p, names) : profile__map_frames(p, names);
	size_t ns = profile__nstacks(p), nf = profile__nframes(names);
	size_t *seen = xmalloc((nf ? nf : 1) * sizeof(*seen));
	uint8_t *pyf = fs->python_only ? python_frames(p) : NULL;

	/* seen[f] = 1 + the last stack that counted f, to count f once per stack. */
	memset(seen, 0, (nf ? nf : 1) * sizeof(*seen));
	fs_grow(fs, nf);
	if (nf > fs->n)
		fs->n = nf;
	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);
		int first = 0;
		uint32_t leaf;
		bool py = false;

		if (!w || !n)
			continue;
		if (fs->skip && (first = fs->skip(p, frames, n, fs->skip_ctx)) < 0)
			continue;
		fs->sum[slot] += w;
		/* Only a process or thread frame: weight without a function. */
		if ((uint32_t)first >= n)
			continue;
		leaf = n - 1;
		if (fs->python_only) {
			for (uint32_t j = n; j-- > (uint32_t)first;)
				if (pyf[frames[j]]) {
					leaf = j;
					py = true;
					break;
				}
		}
		fs->self[slot][map[frames[leaf]]] += w;
		for (uint32_t j = first; j <= leaf; j++) {
			uint32_t f = map[frames[j]];

			if (py && !pyf[frames[j]])
				continue;
			if (seen[f] != i + 1) {
				seen[f] = i + 1;
				fs->total[slot][f] += w;
			}
		}
	}
	free(seen);
	free(map);
	free(pyf);
}

void funcstats__free(struct funcstats *fs)
{
	for (int s = 0; s < 2; s++) {
		free(fs->self[s]);
		free(fs->total[s]);
	}
	memset(fs, 0, sizeof(*fs));
}
