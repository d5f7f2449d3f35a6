/* SPDX-License-Identifier: GPL-2.0 */
/* A hash map from 64-bit keys to 64-bit values (src/u64map.c): open
 * addressing with linear probing, grown at half full, deletion by backward
 * shift. For the userspace tables keyed by PIDs, TIDs and addresses; the
 * hot paths with keys of their own (frame names, call tree nodes) keep
 * their specialised tables.
 */
#ifndef RAMPA_U64MAP_H
#define RAMPA_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one key that cannot be stored. */
#define U64MAP_EMPTY UINT64_MAX

struct u64map_slot {
	uint64_t key; /* U64MAP_EMPTY: free */
	uint64_t val;
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap, n; /* cap: 0 or a power of two */
};

#define U64MAP_INIT        \
	{                  \
		NULL, 0, 0 \
	}

/* The value slot of key, NULL when absent. Valid until the next put. */
uint64_t *u64map_find(const struct u64map *m, uint64_t key);

/* The value slot of key, made (holding 0) when absent; *added (may be NULL)
 * says which. Valid until the next put. key must not be U64MAP_EMPTY.
 */
uint64_t *u64map_slot(struct u64map *m, uint64_t key, bool *added);

/* Remove key; whether it was there. */
bool u64map_del(struct u64map *m, uint64_t key);

/* Remove every entry doomed(entry, ctx) says to (it may not change the
 * map); how many went.
 */
size_t u64map_del_if(struct u64map *m, bool (*doomed)(const struct u64map_slot *e, void *ctx),
		     void *ctx);

/* Every entry: for (size_t i = 0; i < m.cap; i++) if (u64map_used(&m, i)). */
static inline bool u64map_used(const struct u64map *m, size_t i)
{
	return m->slots[i].key != U64MAP_EMPTY;
}

void u64map_free(struct u64map *m);

#endif
