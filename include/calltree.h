/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_CALLTREE_H
#define RAMPA_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Stacks merged into a tree of call paths, for flame graphs and diffs. Two
 * profiles can share one tree (slot 0 and 1, e.g. BASE and NEW); frame ids
 * are those of a names profile, into which other profiles' names are interned.
 */
#define CT_NONE UINT32_MAX

struct calltree_node {
	uint32_t frame;	 /* id in the names profile; the root's is CT_NONE */
	uint32_t parent; /* CT_NONE for the root, node 0 */
	uint32_t first_child, next_sibling;
	uint32_t depth; /* root 0, the stacks' first frames 1 */
	/* The lowest index of slot 0's stacks through it: the order in which
	 * stacks added one by one would have created it, for stable tie orders.
	 */
	uint32_t first_stack;
	uint64_t total[2], self[2];
};

struct calltree;

struct calltree *calltree__new(struct profile *names);
void calltree__free(struct calltree *t);
/* Add every stack of p to slot (0 or 1). */
void calltree__add(struct calltree *t, const struct profile *p, int slot);
/* Order every node's children by frame name, as flame graphs draw them. */
void calltree__sort(struct calltree *t);
size_t calltree__size(const struct calltree *t);
struct calltree_node *calltree__node(const struct calltree *t, uint32_t i);

/* Per function (frame name): self = weight where it is the leaf, total =
 * weight of the stacks it appears in (once per stack, so recursion does not
 * count twice). Arrays are indexed by frame id of the names profile.
 */
struct funcstats {
	uint64_t *self[2], *total[2];
	size_t n, cap;
	uint64_t sum[2];
	int by_function; /* set before adding: Python frames lose ":LINE" */
};

void funcstats__add(struct funcstats *fs, const struct profile *p, struct profile *names, int slot);
void funcstats__free(struct funcstats *fs);

/* Map p's frame ids to those of names (identity when p == names); free() it. */
uint32_t *profile__map_frames(const struct profile *p, struct profile *names);
/* The same, to function names: "qualname (file:LINE)" -> "qualname (file)". */
uint32_t *profile__map_functions(const struct profile *p, struct profile *names);

#endif
