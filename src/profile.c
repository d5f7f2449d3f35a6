// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "util.h"

struct stack_rec {
	size_t frames_off; /* into frame_ids */
	uint32_t n;
	uint64_t weight;
	uint64_t hash;
};

struct profile {
	/* Frame names: open addressing on name_slots, values are ids + 1. */
	char **names;
	size_t nnames, names_cap;
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
};

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
	free(p->name_slots);
	free(p->frame_ids);
	free(p->stacks);
	free(p->stack_slots);
	free(p);
}

static void rehash_names(struct profile *p)
{
	size_t cap = p->name_slots_cap ? p->name_slots_cap * 2 : 1024;

	free(p->name_slots);
	p->name_slots = xcalloc(cap, sizeof(*p->name_slots));
	p->name_slots_cap = cap;
	for (size_t i = 0; i < p->nnames; i++) {
		size_t s = hash_bytes(p->names[i], strlen(p->names[i]), 0) & (cap - 1);

		while (p->name_slots[s])
			s = (s + 1) & (cap - 1);
		p->name_slots[s] = i + 1;
	}
}

uint32_t profile__intern(struct profile *p, const char *name)
{
	size_t len = strlen(name), s;

	if ((p->nnames + 1) * 2 > p->name_slots_cap)
		rehash_names(p);
	s = hash_bytes(name, len, 0) & (p->name_slots_cap - 1);
	while (p->name_slots[s]) {
		uint32_t id = p->name_slots[s] - 1;

		if (!strcmp(p->names[id], name))
			return id;
		s = (s + 1) & (p->name_slots_cap - 1);
	}
	grow_array((void **)&p->names, &p->names_cap, p->nnames + 1, sizeof(char *));
	p->names[p->nnames] = xstrdup(name);
	p->name_slots[s] = p->nnames + 1;
	return p->nnames++;
}

const char *profile__frame_name(const struct profile *p, uint32_t id)
{
	return id < p->nnames ? p->names[id] : "[invalid]";
}

size_t profile__nframes(const struct profile *p)
{
	return p->nnames;
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

void profile__add(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight)
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
			return;
		}
		s = (s + 1) & (p->stack_slots_cap - 1);
	}
	grow_array((void **)&p->frame_ids, &p->frame_ids_cap, p->nframe_ids + n,
		   sizeof(*p->frame_ids));
	memcpy(p->frame_ids + p->nframe_ids, frames, n * sizeof(*frames));
	grow_array((void **)&p->stacks, &p->stacks_cap, p->nstacks + 1, sizeof(*p->stacks));
	p->stacks[p->nstacks] = (struct stack_rec){ p->nframe_ids, n, weight, h };
	p->nframe_ids += n;
	p->stack_slots[s] = ++p->nstacks;
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
