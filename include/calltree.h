/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_CALLTREE_H
#define RAMPA_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Stacks merged into a tree of call paths, for flame graphs and diffs. Two
 * profiles can share one tree (slot 0 and 1, e.g. BASE and NEW); frame ids
 * are those of a names profile, into which other profiles' names are interned.
 *
 * The tree is not stored: each slot's stacks are sorted by their frames'
 * names, so that a node is a run of the stacks of each slot, those that
 * begin with its call path, and is computed when it is visited. Memory is
 * that of a few words per stack (the stacks' frames stay in the profiles),
 * whatever the number of nodes.
 */
#define CT_NONE UINT32_MAX

/* A node, filled in by calltree__root(), calltree__first_child() and
 * calltree__next_sibling(); a value the caller owns, valid while its tree is.
 */
struct calltree_node {
	uint32_t frame; /* id in the names profile; the root's is CT_NONE */
	uint32_t depth; /* root 0, the stacks' first frames 1 */
	/* Per slot: the stacks through the node, [lo, hi) in the slot's sorted
	 * order, and end, the parent's hi: where its siblings stop.
	 */
	uint32_t lo[2], hi[2], end[2];
	uint64_t total[2], self[2];
};

struct calltree;

struct calltree *calltree__new(struct profile *names);
void calltree__free(struct calltree *t);
/* Take the stacks of p (those of non-zero weight) into slot (0 or 1), once
 * per slot, interning p's frame names into names. The tree reads p's stacks
 * until it is freed: p must not change meanwhile.
 */
void calltree__add(struct calltree *t, const struct profile *p, int slot);
/* Sort the stacks, children in frame name order (and by frame id among
 * frames of one name), as flame graphs draw them; after the last
 * calltree__add(), before any node is visited. Once is enough.
 */
void calltree__sort(struct calltree *t);
void calltree__root(const struct calltree *t, struct calltree_node *root);
/* *child gets nd's first child: 0 when nd has none. */
int calltree__first_child(const struct calltree *t, const struct calltree_node *nd,
			  struct calltree_node *child);
/* *nd becomes its next sibling: 0 when there is none (nd is then undefined). */
int calltree__next_sibling(const struct calltree *t, struct calltree_node *nd);
/* The names id of frame i (0 <= i < nd->depth) of nd's call path. */
uint32_t calltree__path_frame(const struct calltree *t, const struct calltree_node *nd, uint32_t i);

/* Every distinct stack of the tree (a slot's equal stacks summed) in the
 * order of a depth-first walk in name order, a stack before those it is a
 * prefix of; with both slots, stacks of both merged. calltree__walk_next()
 * fills in the next one, 0 when there is none left; calltree__walk_free()
 * frees the buffers (not the walk itself).
 */
struct calltree_walk {
	const uint32_t *frames; /* the stack, names ids; n of them */
	uint32_t n;
	uint32_t common;  /* frames shared with the previous stack of the walk */
	uint64_t self[2]; /* its weight in each slot, 0 when not in it */
	/* Per slot: the lowest index in the slot's profile of the stacks summed
	 * here, CT_NONE when none; and how many of the stack's first frames are
	 * a call path with weight in the slot (n when the stack is in it).
	 */
	uint32_t first[2], in[2];
	/* Private. */
	size_t pos[2];
	uint32_t *buf, *ranks;
	size_t buf_cap, ranks_cap;
};

void calltree__walk_start(const struct calltree *t, struct calltree_walk *w);
int calltree__walk_next(const struct calltree *t, struct calltree_walk *w);
void calltree__walk_free(struct calltree_walk *w);

/* Per function (frame name): self = weight where it is the leaf, total =
 * weight of the stacks it appears in (once per stack, so recursion does not
 * count twice). Arrays are indexed by frame id of the names profile.
 */
struct funcstats {
	uint64_t *self[2], *total[2];
	size_t n, cap;
	uint64_t sum[2];
	int by_function; /* set before adding: Python frames lose ":LINE" */
	/* Optional, set before adding: how many of stack frames[0..n)'s first
	 * frames are not functions (a process's root, a thread's frame), or -1
	 * to leave the stack out (another thread's). NULL: all frames count.
	 */
	int (*skip)(const struct profile *p, const uint32_t *frames, uint32_t n, void *ctx);
	void *skip_ctx;
	/* Set before adding: in a stack with Python frames only those count,
	 * self going to the innermost (py-spy's view without --native: the
	 * interpreter's and the kernel's frames left out, no weight lost); a
	 * stack without any keeps all its frames.
	 */
	int python_only;
};

void funcstats__add(struct funcstats *fs, const struct profile *p, struct profile *names, int slot);
void funcstats__free(struct funcstats *fs);

/* Map p's frame ids to those of names (identity when p == names); free() it. */
uint32_t *profile__map_frames(const struct profile *p, struct profile *names);
/* The same, to function names: "qualname (file:LINE)" -> "qualname (file)". */
uint32_t *profile__map_functions(const struct profile *p, struct profile *names);

#endif
