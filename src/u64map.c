// SPDX-License-Identifier: GPL-2.0
/* See include/u64map.h. */
#include <stdlib.h>
#include <string.h>

#include "u64map.h"
#include "util.h"

/* Keys are PIDs, TIDs and aligned addresses: mix the bits (the finaliser of
 * MurmurHash3) so that neighbours spread.
 */
static size_t home(const struct u64map *m, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (m->cap - 1);
}

static void grow(struct u64map *m)
{
	struct u64map big = { .cap = m->cap ? m->cap * 2 : 64 };

	big.slots = xmalloc(big.cap * sizeof(*big.slots));
	memset(big.slots, 0xff, big.cap * sizeof(*big.slots));
	for (size_t i = 0; i < m->cap; i++)
		if (u64map_used(m, i))
			*u64map_slot(&big, m->slots[i].key, NULL) = m->slots[i].val;
	free(m->slots);
	*m = big;
}

uint64_t *u64map_find(const struct u64map *m, uint64_t key)
{
	if (!m->cap || key == U64MAP_EMPTY)
		return NULL;
	for (size_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key)
			return &m->slots[i].val;
		if (m->slots[i].key == U64MAP_EMPTY)
			return NULL;
	}
}

uint64_t *u64map_slot(struct u64map *m, uint64_t key, bool *added)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	for (i = home(m, key); m->slots[i].key != U64MAP_EMPTY; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			if (added)
				*added = false;
			return &m->slots[i].val;
		}
	}
	m->slots[i] = (struct u64map_slot){ key, 0 };
	m->n++;
	if (added)
		*added = true;
	return &m->slots[i].val;
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	uint64_t *v = u64map_find(m, key);
	size_t i, j;

	if (!v)
		return false;
	i = (size_t)((struct u64map_slot *)((char *)v - offsetof(struct u64map_slot, val)) -
		     m->slots);
	/* Backward shift: move up every entry of the run after i that may live
	 * at i, so lookups never stop early at the hole.
	 */
	for (j = (i + 1) & (m->cap - 1); u64map_used(m, j); j = (j + 1) & (m->cap - 1)) {
		size_t h = home(m, m->slots[j].key);

		/* j's entry may move to i when its home is not in (i, j]. */
		if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = U64MAP_EMPTY;
	m->n--;
	return true;
}

size_t u64map_del_if(struct u64map *m, bool (*doomed)(const struct u64map_slot *e, void *ctx),
		     void *ctx)
{
	uint64_t *keys = NULL;
	size_t n = 0, cap = 0;

	/* Keys first: deleting shifts entries back, under a walk in order. */
	for (size_t i = 0; i < m->cap; i++) {
		if (u64map_used(m, i) && doomed(&m->slots[i], ctx)) {
			grow_array((void **)&keys, &cap, n + 1, sizeof(*keys));
			keys[n++] = m->slots[i].key;
		}
	}
	for (size_t i = 0; i < n; i++)
		u64map_del(m, keys[i]);
	free(keys);
	return n;
}

void u64map_free(struct u64map *m)
{
	free(m->slots);
	*m = (struct u64map)U64MAP_INIT;
}
