// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "util.h"

struct calltree {
	struct profile *names;
	struct calltree_node *nodes;
	size_t n, cap;
	/* (parent, frame) -> node index + 1, open addressing. The key lives in
	 * the slot so a probe touches one cache line, not the node too.
	 */
	struct slot {
		uint32_t parent, frame, node;
	} * slots;
	size_t slots_cap;
};

static uint64_t key_hash(uint32_t parent, uint32_t frame)
{
	uint64_t k = ((uint64_t)parent << 32) | frame;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static void rehash(struct calltree *t)
{
	size_t cap = t->slots_cap ? t->slots_cap * 2 : 4096;

	free(t->slots);
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->slots_cap = cap;
	for (size_t i = 1; i < t->n; i++) {
		size_t s = key_hash(t->nodes[i].parent, t->nodes[i].frame) & (cap - 1);

		while (t->slots[s].node)
			s = (s + 1) & (cap - 1);
		t->slots[s] =
		    (struct slot){ t->nodes[i].parent, t->nodes[i].frame, (uint32_t)i + 1 };
	}
}

static uint32_t new_node(struct calltree *t, uint32_t parent, uint32_t frame)
{
	struct calltree_node *nd;

	grow_array((void **)&t->nodes, &t->cap, t->n + 1, sizeof(*t->nodes));
	nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->frame = frame;
	nd->parent = parent;
	nd->first_child = CT_NONE;
	nd->next_sibling = CT_NONE;
	if (parent != CT_NONE) {
		nd->depth = t->nodes[parent].depth + 1;
		nd->next_sibling = t->nodes[parent].first_child;
		t->nodes[parent].first_child = (uint32_t)t->n;
	}
	return (uint32_t)t->n++;
}

struct calltree *calltree__new(struct profile *names)
{
	struct calltree *t = xcalloc(1, sizeof(*t));

	t->names = names;
	new_node(t, CT_NONE, CT_NONE);
	return t;
}

void calltree__free(struct calltree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->slots);
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

/* Stacks are walked LANES at a time, one lookup per lane in turn, each lane
 * prefetching its next hash slot and node: on unsorted input nearly every
 * lookup is a cache miss, and this keeps several in flight instead of one.
 */
#define LANES 8

struct lane {
	uint64_t w;
	uint32_t n, j, cur, stack, frame;
	uint64_t hash;
	/* A node reached whose weights are added on the lane's next turn, once
	 * its prefetch has landed.
	 */
	uint32_t pending, pending_self;
	/* The lane's previous stack and its nodes: its next stack shares their
	 * prefix, which then needs no lookups (most of it, on sorted input).
	 */
	uint32_t *path, *prev, prev_n;
	size_t path_cap, prev_cap, next;
};

static void lane_flush(struct calltree *t, struct lane *l, int slot)
{
	struct calltree_node *nd;

	if (l->pending == CT_NONE)
		return;
	nd = &t->nodes[l->pending];
	nd->total[slot] += l->w;
	if (l->pending_self)
		nd->self[slot] += l->w;
	if (!slot && l->stack < nd->first_stack)
		nd->first_stack = l->stack;
	l->pending = CT_NONE;
}

/* Take the lane's next stack with a frame left to look up; 0 when none is left. */
static int lane_start(struct calltree *t, struct lane *l, const struct profile *p,
		      const uint32_t *map, size_t ns, int slot)
{
	while (l->next < ns) {
		uint32_t n, j = 0;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, l->next, &n, &w);

		l->stack = (uint32_t)l->next;
		l->next += LANES;
		if (!w)
			continue;
		grow_array((void **)&l->path, &l->path_cap, n + 1, sizeof(*l->path));
		grow_array((void **)&l->prev, &l->prev_cap, n + 1, sizeof(*l->prev));
		while (j < n && j < l->prev_n && l->prev[j] == map[frames[j]])
			j++;
		for (uint32_t k = j; k < n; k++)
			l->prev[k] = map[frames[k]];
		l->prev_n = n;
		l->w = w;
		t->nodes[0].total[slot] += w;
		for (uint32_t k = 0; k < j; k++)
			t->nodes[l->path[k]].total[slot] += w;
		l->cur = j ? l->path[j - 1] : 0;
		if (j == n) {
			t->nodes[l->cur].self[slot] += w;
			continue;
		}
		l->n = n;
		l->j = j;
		l->frame = l->prev[j];
		l->hash = key_hash(l->cur, l->frame);
		if (t->slots_cap)
			__builtin_prefetch(&t->slots[l->hash & (t->slots_cap - 1)]);
		return 1;
	}
	return 0;
}

/* One lookup: the child of l->cur for l->frame, found or made. */
static void lane_step(struct calltree *t, struct lane *l, int slot)
{
	size_t s;
	uint32_t i;

	if ((t->n + 1) * 2 > t->slots_cap)
		rehash(t);
	s = l->hash & (t->slots_cap - 1);
	for (;;) {
		if (!t->slots[s].node) {
			i = new_node(t, l->cur, l->frame);
			t->nodes[i].first_stack = l->stack;
			t->slots[s] = (struct slot){ l->cur, l->frame, i + 1 };
			break;
		}
		if (t->slots[s].parent == l->cur && t->slots[s].frame == l->frame) {
			i = t->slots[s].node - 1;
			break;
		}
		s = (s + 1) & (t->slots_cap - 1);
	}
	__builtin_prefetch(&t->nodes[i], 1);
	l->pending = i;
	l->path[l->j++] = i;
	l->cur = i;
	l->pending_self = l->j == l->n;
	if (l->j < l->n) {
		l->frame = l->prev[l->j];
		l->hash = key_hash(i, l->frame);
		__builtin_prefetch(&t->slots[l->hash & (t->slots_cap - 1)]);
	}
}

void calltree__add(struct calltree *t, const struct profile *p, int slot)
{
	uint32_t *map = profile__map_frames(p, t->names);
	size_t ns = profile__nstacks(p);
	struct lane lanes[LANES];
	int active = 0, busy[LANES];

	memset(lanes, 0, sizeof(lanes));
	for (int k = 0; k < LANES; k++) {
		lanes[k].next = (size_t)k;
		lanes[k].pending = CT_NONE;
		busy[k] = lane_start(t, &lanes[k], p, map, ns, slot);
		active += busy[k];
	}
	while (active) {
		for (int k = 0; k < LANES; k++) {
			struct lane *l = &lanes[k];

			if (!busy[k])
				continue;
			lane_flush(t, l, slot);
			if (l->j == l->n && !lane_start(t, l, p, map, ns, slot)) {
				busy[k] = 0;
				active--;
				continue;
			}
			lane_step(t, l, slot);
		}
	}
	for (int k = 0; k < LANES; k++) {
		lane_flush(t, &lanes[k], slot);
		free(lanes[k].path);
		free(lanes[k].prev);
	}
	free(map);
}

static const struct profile *sort_names;

static int cmp_by_name(const void *a, const void *b)
{
	const struct calltree_node *x = *(const struct calltree_node *const *)a;
	const struct calltree_node *y = *(const struct calltree_node *const *)b;

	return strcmp(profile__frame_name(sort_names, x->frame),
		      profile__frame_name(sort_names, y->frame));
}

void calltree__sort(struct calltree *t)
{
	struct calltree_node **kids = NULL;
	size_t cap = 0;

	sort_names = t->names;
	for (size_t i = 0; i < t->n; i++) {
		size_t k = 0;

		for (uint32_t c = t->nodes[i].first_child; c != CT_NONE;
		     c = t->nodes[c].next_sibling) {
			grow_array((void **)&kids, &cap, k + 1, sizeof(*kids));
			kids[k++] = &t->nodes[c];
		}
		if (k < 2)
			continue;
		qsort(kids, k, sizeof(*kids), cmp_by_name);
		t->nodes[i].first_child = (uint32_t)(kids[0] - t->nodes);
		for (size_t j = 0; j < k; j++)
			kids[j]->next_sibling =
			    j + 1 < k ? (uint32_t)(kids[j + 1] - t->nodes) : CT_NONE;
	}
	free(kids);
}

size_t calltree__size(const struct calltree *t)
{
	return t->n;
}

struct calltree_node *calltree__node(const struct calltree *t, uint32_t i)
{
	return &t->nodes[i];
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

void funcstats__add(struct funcstats *fs, const struct profile *p, struct profile *names, int slot)
{
	uint32_t *map =
	    fs->by_function ? profile__map_functions(p, names) : profile__map_frames(p, names);
	size_t ns = profile__nstacks(p), nf = profile__nframes(names);
	size_t *seen = xmalloc((nf ? nf : 1) * sizeof(*seen));

	/* seen[f] = 1 + the last stack that counted f, to count f once per stack. */
	memset(seen, 0, (nf ? nf : 1) * sizeof(*seen));
	fs_grow(fs, nf);
	if (nf > fs->n)
		fs->n = nf;
	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);

		if (!w || !n)
			continue;
		fs->sum[slot] += w;
		fs->self[slot][map[frames[n - 1]]] += w;
		for (uint32_t j = 0; j < n; j++) {
			uint32_t f = map[frames[j]];

			if (seen[f] != i + 1) {
				seen[f] = i + 1;
				fs->total[slot][f] += w;
			}
		}
	}
	free(seen);
	free(map);
}

void funcstats__free(struct funcstats *fs)
{
	for (int s = 0; s < 2; s++) {
		free(fs->self[s]);
		free(fs->total[s]);
	}
	memset(fs, 0, sizeof(*fs));
}
