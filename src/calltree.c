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

static uint32_t child(struct calltree *t, uint32_t parent, uint32_t frame)
{
	size_t s;
	uint32_t i;

	if ((t->n + 1) * 2 > t->slots_cap)
		rehash(t);
	s = key_hash(parent, frame) & (t->slots_cap - 1);
	while (t->slots[s].node) {
		if (t->slots[s].parent == parent && t->slots[s].frame == frame)
			return t->slots[s].node - 1;
		s = (s + 1) & (t->slots_cap - 1);
	}
	i = new_node(t, parent, frame);
	t->slots[s] = (struct slot){ parent, frame, i + 1 };
	return i;
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

void calltree__add(struct calltree *t, const struct profile *p, int slot)
{
	uint32_t *map = profile__map_frames(p, t->names);
	size_t ns = profile__nstacks(p), path_cap = 0, prev_cap = 0;
	/* The previous stack and its nodes: stacks that arrive sorted share
	 * prefixes, which then need no lookups.
	 */
	uint32_t *path = NULL, *prev = NULL, prev_n = 0;

	for (size_t i = 0; i < ns; i++) {
		uint32_t n, cur = 0, j = 0;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);

		if (!w)
			continue;
		grow_array((void **)&path, &path_cap, n + 1, sizeof(*path));
		grow_array((void **)&prev, &prev_cap, n + 1, sizeof(*prev));
		while (j < n && j < prev_n && prev[j] == map[frames[j]])
			j++;
		if (j)
			cur = path[j - 1];
		t->nodes[0].total[slot] += w;
		for (uint32_t k = 0; k < j; k++)
			t->nodes[path[k]].total[slot] += w;
		for (; j < n; j++) {
			prev[j] = map[frames[j]];
			cur = child(t, cur, prev[j]);
			path[j] = cur;
			t->nodes[cur].total[slot] += w;
		}
		prev_n = n;
		t->nodes[cur].self[slot] += w;
	}
	free(path);
	free(prev);
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
