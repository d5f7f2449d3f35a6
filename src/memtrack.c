// SPDX-License-Identifier: GPL-2.0
/* Sampled pages by (pid, page number) in one u64map; their stacks in an
 * array, found again by the hash of the kernel's key for them.
 */
#include <stdlib.h>
#include <string.h>

#include "memtrack.h"
#include "u64map.h"
#include "util.h"

#define PAGE_SHIFT 12
/* Key: pid in the top 24 bits, page number below (addresses below 2^52). */
#define PAGE_BITS 40
#define PAGE_MASK ((1ull << PAGE_BITS) - 1)

struct mem_stack {
	uint32_t *frames;
	uint32_t n;
	pid_t pid;
	uint64_t retained, churn;
	bool snapped; /* at its process's peak RSS: */
	uint64_t snap_retained, snap_churn;
};

struct memtrack {
	struct u64map pages;	 /* key: pid << PAGE_BITS | page; val: bytes << 32 | stack */
	struct u64map by_key;	 /* hash of the kernel's key -> stack index */
	struct u64map by_frames; /* hash of the frames -> stack index */
	struct mem_stack *stacks;
	size_t nstacks, stacks_cap;
	struct memtrack_totals t;
	struct u64map exited; /* pids gone: their stacks as at their peak */
};

static uint64_t page_key(pid_t pid, uint64_t page)
{
	return (uint64_t)(uint32_t)pid << PAGE_BITS | page;
}

struct memtrack *memtrack__new(void)
{
	struct memtrack *mt = xcalloc(1, sizeof(*mt));

	mt->pages = (struct u64map)U64MAP_INIT;
	mt->by_key = (struct u64map)U64MAP_INIT;
	mt->by_frames = (struct u64map)U64MAP_INIT;
	mt->exited = (struct u64map)U64MAP_INIT;
	return mt;
}

void memtrack__free(struct memtrack *mt)
{
	if (!mt)
		return;
	for (size_t i = 0; i < mt->nstacks; i++)
		free(mt->stacks[i].frames);
	free(mt->stacks);
	u64map_free(&mt->pages);
	u64map_free(&mt->by_key);
	u64map_free(&mt->by_frames);
	u64map_free(&mt->exited);
	free(mt);
}

int64_t memtrack__stack_find(const struct memtrack *mt, uint64_t hash)
{
	uint64_t *v = u64map_find(&mt->by_key, hash);

	return v ? (int64_t)*v : -1;
}

uint32_t memtrack__stack_add(struct memtrack *mt, uint64_t hash, bool remember, pid_t pid,
			     const uint32_t *frames, uint32_t n)
{
	uint64_t fh = hash_bytes(frames, n * sizeof(*frames), (uint64_t)(uint32_t)pid << 32 | n),
		 *v;
	struct mem_stack *s;
	bool added;

	/* Keys that differ where the frames do not (a leaf address) share one. */
	v = u64map_slot(&mt->by_frames, fh, &added);
	if (!added) {
		s = &mt->stacks[*v];
		if (s->pid == pid && s->n == n && !memcmp(s->frames, frames, n * sizeof(*frames))) {
			if (remember)
				*u64map_slot(&mt->by_key, hash, NULL) = *v;
			return (uint32_t)*v;
		}
	}
	*v = mt->nstacks;
	grow_array((void **)&mt->stacks, &mt->stacks_cap, mt->nstacks + 1, sizeof(*mt->stacks));
	s = &mt->stacks[mt->nstacks];
	memset(s, 0, sizeof(*s));
	s->frames = xmalloc((n ? n : 1) * sizeof(*frames));
	memcpy(s->frames, frames, n * sizeof(*frames));
	s->n = n;
	s->pid = pid;
	if (remember)
		*u64map_slot(&mt->by_key, hash, NULL) = mt->nstacks;
	return (uint32_t)mt->nstacks++;
}

/* A sampled page given back: its bytes are churn from now on. */
static void to_churn(struct memtrack *mt, uint64_t val)
{
	struct mem_stack *s = &mt->stacks[(uint32_t)val];
	uint64_t bytes = val >> 32;

	s->retained -= bytes;
	s->churn += bytes;
	mt->t.retained -= bytes;
	mt->t.churn += bytes;
}

void memtrack__fault(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t bytes, uint32_t stack)
{
	uint64_t page = addr >> PAGE_SHIFT, *v;
	bool added;

	mt->t.sampled += bytes;
	if (page > PAGE_MASK || stack >= mt->nstacks || bytes >= 1ull << 32) {
		mt->t.unplaced += bytes;
		return;
	}
	v = u64map_slot(&mt->pages, page_key(pid, page), &added);
	if (!added) {
		mt->t.refaulted += *v >> 32;
		to_churn(mt, *v);
	}
	*v = bytes << 32 | stack;
	mt->stacks[stack].retained += bytes;
	mt->t.retained += bytes;
}

struct range {
	struct memtrack *mt;
	uint64_t lo, hi; /* keys, hi excluded */
	uint64_t *taken; /* MOVE: keys and values taken, in pairs */
	size_t ntaken, taken_cap;
};

static bool in_range(const struct u64map_slot *e, void *ctx)
{
	struct range *r = ctx;

	if (e->key < r->lo || e->key >= r->hi)
		return false;
	grow_array((void **)&r->taken, &r->taken_cap, r->ntaken + 2, sizeof(*r->taken));
	r->taken[r->ntaken++] = e->key;
	r->taken[r->ntaken++] = e->val;
	return true;
}

/* Take every sampled page of pid in [addr, addr + len) out of the table
 * into r->taken: page by page when the range is smaller than the table,
 * else by one pass over the table.
 */
static void take_range(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, struct range *r)
{
	uint64_t first = addr >> PAGE_SHIFT,
		 end = (addr + len + (1u << PAGE_SHIFT) - 1) >> PAGE_SHIFT;

	memset(r, 0, sizeof(*r));
	r->mt = mt;
	if (first > PAGE_MASK || !mt->pages.n || end <= first)
		return;
	if (end > PAGE_MASK + 1)
		end = PAGE_MASK + 1;
	r->lo = page_key(pid, first);
	r->hi = page_key(pid, 0) + end;
	if (end - first <= mt->pages.n) {
		for (uint64_t k = r->lo; k < r->hi; k++) {
			uint64_t *v = u64map_find(&mt->pages, k);

			if (!v)
				continue;
			grow_array((void **)&r->taken, &r->taken_cap, r->ntaken + 2,
				   sizeof(*r->taken));
			r->taken[r->ntaken++] = k;
			r->taken[r->ntaken++] = *v;
			u64map_del(&mt->pages, k);
		}
		return;
	}
	u64map_del_if(&mt->pages, in_range, r);
}

void memtrack__release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len)
{
	struct range r;

	mt->t.releases++;
	take_range(mt, pid, addr, len, &r);
	for (size_t i = 0; i < r.ntaken; i += 2)
		to_churn(mt, r.taken[i + 1]);
	free(r.taken);
}

void memtrack__move(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, uint64_t addr2,
		    uint64_t len2)
{
	struct range r;

	mt->t.releases++;
	take_range(mt, pid, addr, len, &r);
	for (size_t i = 0; i < r.ntaken; i += 2) {
		uint64_t off = ((r.taken[i] & PAGE_MASK) << PAGE_SHIFT) - (addr & ~0xfffull);
		uint64_t page = (addr2 + off) >> PAGE_SHIFT, *v;
		bool added;

		if (off >= len2 || page > PAGE_MASK) {
			to_churn(mt, r.taken[i + 1]);
			continue;
		}
		v = u64map_slot(&mt->pages, page_key(pid, page), &added);
		if (!added)
			to_churn(mt, *v);
		*v = r.taken[i + 1];
	}
	free(r.taken);
}

void memtrack__forget_process(struct memtrack *mt, pid_t pid)
{
	memtrack__release(mt, pid, 0, (PAGE_MASK + 1) << PAGE_SHIFT);
}

void memtrack__snapshot(struct memtrack *mt, const struct u64map *pids)
{
	for (size_t i = 0; i < mt->nstacks; i++) {
		struct mem_stack *s = &mt->stacks[i];

		if (u64map_find(pids, (uint32_t)s->pid)) {
			s->snapped = true;
			s->snap_retained = s->retained;
			s->snap_churn = s->churn;
		}
	}
}

void memtrack__exited(struct memtrack *mt, pid_t pid)
{
	u64map_slot(&mt->exited, (uint32_t)pid, NULL);
}

/* What a stack reports: as at its process's peak if the process is gone. */
static void reported(const struct memtrack *mt, const struct mem_stack *s, uint64_t *retained,
		     uint64_t *churn)
{
	if (s->snapped && u64map_find(&mt->exited, (uint32_t)s->pid)) {
		*retained = s->snap_retained;
		*churn = s->snap_churn;
	} else {
		*retained = s->retained;
		*churn = s->churn;
	}
}

void memtrack__totals(const struct memtrack *mt, struct memtrack_totals *t)
{
	*t = mt->t;
	t->retained = t->churn = 0;
	for (size_t i = 0; i < mt->nstacks; i++) {
		uint64_t r, c;

		reported(mt, &mt->stacks[i], &r, &c);
		t->retained += r;
		t->churn += c;
	}
}

void memtrack__stacks(const struct memtrack *mt,
		      void (*cb)(const uint32_t *frames, uint32_t n, uint64_t retained,
				 uint64_t churn, void *ctx),
		      void *ctx)
{
	for (size_t i = 0; i < mt->nstacks; i++) {
		uint64_t r, c;

		reported(mt, &mt->stacks[i], &r, &c);
		if (r || c)
			cb(mt->stacks[i].frames, mt->stacks[i].n, r, c, ctx);
	}
}
