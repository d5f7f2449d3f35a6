/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PROFILE_H
#define RAMPA_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* An aggregated profile: interned frame names and distinct stacks (root
 * first) with a weight each. Writers read it; capture and readers fill it.
 */
struct profile;

struct profile_meta {
	const char *mode; /* "cpu", "wall", "offcpu", "gil-wait" */
	const char *unit; /* "samples", "microseconds" */
	char target[256]; /* what was profiled, for titles */
	double duration_sec;
	unsigned int hz;
};

struct profile *profile__new(void);
void profile__free(struct profile *p);

uint32_t profile__intern(struct profile *p, const char *name);
const char *profile__frame_name(const struct profile *p, uint32_t id);
size_t profile__nframes(const struct profile *p);

/* Add weight to the stack frames[0..n) (root first). */
void profile__add(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight);

size_t profile__nstacks(const struct profile *p);
/* Stack i (0 <= i < nstacks): its frames and weight. */
const uint32_t *profile__stack(const struct profile *p, size_t i, uint32_t *n, uint64_t *weight);
uint64_t profile__total(const struct profile *p);

struct profile_meta *profile__meta(struct profile *p);

#endif
