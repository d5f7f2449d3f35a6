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
	/* As at the oldest entry of the log: the log's deltas lead to now. */
	uint64_t base_retained, base_churn;
};

/* A change of a stack's retained bytes (released: its churn grew as much). */
struct log_entry {
	double t;
	uint32_t stack;
	uint32_t released;
	uint64_t bytes;
};

/* Blocks (--precise): key pid index << BLOCK_BITS | address / 16 (malloc's
 * alignment); the index is dense, one per process seen.
 */
#define BLOCK_SHIFT 4
#define BLOCK_BITS  43
#define BLOCK_MASK  ((1ull << BLOCK_BITS) - 1)

struct memtrack {
	struct u64map blocks;	 /* key: see BLOCK_BITS; val: bytes << 32 | stack */
	struct u64map pids;	 /* pid -> its index in blocks' keys */
	struct u64map pages;	 /* key: pid << PAGE_BITS | page; val: bytes << 32 | stack */
	struct u64map by_key;	 /* hash of the kernel's key -> stack index */
	struct u64map by_frames; /* hash of the frames -> stack index */
	struct mem_stack *stacks;
	size_t nstacks, stacks_cap;
	struct memtrack_totals t;
	struct u64map exited; /* pid -> double bits: gone, its figures as at that time */
	struct log_entry *log;
	size_t log_first, nlog, log_cap; /* entries [log_first, nlog) */
	double now;
	uint64_t log_folded_early; /* entries folded before MEMTRACK_LOG_SEC: log full */
};

static uint64_t page_key(pid_t pid, uint64_t page)
{
	return (uint64_t)(uint32_t)pid << PAGE_BITS | page;
}

struct memtrack *memtrack__new(void)
{
	struct memtrack *mt = xcalloc(1, sizeof(*mt));

	mt->pages = (struct u64map)U64MAP_INIT;
	mt->blocks = (struct u64map)U64MAP_INIT;
	mt->pids = (struct u64map)U64MAP_INIT;
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
	u64map_free(&mt->blocks);
	u64map_free(&mt->pids);
	u64map_free(&mt->by_key);
	u64map_free(&mt->by_frames);
	u64map_free(&mt->exited);
	free(mt->log);
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

/* Entries older than MEMTRACK_LOG_SEC go into the stacks' bases. */
static void log_fold(struct memtrack *mt, size_t upto)
{
	for (; mt->log_first < upto; mt->log_first++) {
		const struct log_entry *e = &mt->log[mt->log_first];
		struct mem_stack *s = &mt->stacks[e->stack];
		uint64_t *bits = u64map_find(&mt->exited, (uint32_t)s->pid);
		double until;

		/* After its process's time: never reported, not kept. */
		if (bits) {
			memcpy(&until, bits, sizeof(until));
			if (e->t > until)
				continue;
		}
		if (e->released) {
			s->base_retained -= e->bytes;
			s->base_churn += e->bytes;
		} else {
			s->base_retained += e->bytes;
		}
	}
}

static void log_add(struct memtrack *mt, uint32_t stack, bool released, uint64_t bytes)
{
	size_t old = mt->log_first;

	while (mt->log_first < mt->nlog && mt->log[mt->log_first].t < mt->now - MEMTRACK_LOG_SEC)
		mt->log_first++;
	if (mt->log_first != old) {
		size_t upto = mt->log_first;

		mt->log_first = old;
		log_fold(mt, upto);
	}
	if (mt->nlog - mt->log_first >= MEMTRACK_LOG_MAX) {
		mt->log_folded_early++;
		log_fold(mt, mt->log_first + 1);
	}
	/* Compact when half the array is folded entries. */
	if (mt->log_first && mt->log_first * 2 >= mt->nlog) {
		memmove(mt->log, mt->log + mt->log_first,
			(mt->nlog - mt->log_first) * sizeof(*mt->log));
		mt->nlog -= mt->log_first;
		mt->log_first = 0;
	}
	grow_array((void **)&mt->log, &mt->log_cap, mt->nlog + 1, sizeof(*mt->log));
	mt->log[mt->nlog++] = (struct log_entry){ mt->now, stack, released, bytes };
}

void memtrack__set_time(struct memtrack *mt, double t)
{
	mt->now = t;
}

/* A sampled page given back: its bytes are churn from now on. */
static void to_churn(struct memtrack *mt, uint64_t val)
{
	struct mem_stack *s = &mt->stacks[(uint32_t)val];
	uint64_t bytes = val >> 32;

	log_add(mt, (uint32_t)val, true, bytes);
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
	log_add(mt, stack, false, bytes);
	mt->stacks[stack].retained += bytes;
	mt->t.retained += bytes;
}

/* The key of pid's block at addr; false when it cannot have one. */
static bool block_key(struct memtrack *mt, pid_t pid, uint64_t addr, bool add, uint64_t *key)
{
	uint64_t *idx, n = mt->pids.n;
	bool added;

	if ((addr & ((1u << BLOCK_SHIFT) - 1)) || (addr >> BLOCK_SHIFT) > BLOCK_MASK)
		return false;
	if (add) {
		idx = u64map_slot(&mt->pids, (uint32_t)pid, &added);
		if (added)
			*idx = n;
	} else {
		idx = u64map_find(&mt->pids, (uint32_t)pid);
	}
	if (!idx || *idx >= 1ull << (64 - BLOCK_BITS))
		return false;
	*key = *idx << BLOCK_BITS | addr >> BLOCK_SHIFT;
	return true;
}

void memtrack__block_alloc(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t bytes,
			   uint32_t stack)
{
	uint64_t key, *v;
	bool added;

	mt->t.sampled += bytes;
	if (stack >= mt->nstacks || bytes >= 1ull << 32 || !block_key(mt, pid, addr, true, &key)) {
		mt->t.unplaced += bytes;
		return;
	}
	v = u64map_slot(&mt->blocks, key, &added);
	if (!added) {
		/* Its free was not seen (lost): it went before this one came. */
		mt->t.refaulted += *v >> 32;
		to_churn(mt, *v);
	}
	*v = bytes << 32 | stack;
	log_add(mt, stack, false, bytes);
	mt->stacks[stack].retained += bytes;
	mt->t.retained += bytes;
}

void memtrack__block_free(struct memtrack *mt, pid_t pid, uint64_t addr)
{
	uint64_t key, *v;

	mt->t.releases++;
	if (!block_key(mt, pid, addr, false, &key))
		return;
	v = u64map_find(&mt->blocks, key);
	if (!v)
		return;
	to_churn(mt, *v);
	u64map_del(&mt->blocks, key);
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

struct forget {
	struct memtrack *mt;
	uint64_t idx;
};

static bool block_of(const struct u64map_slot *e, void *ctx)
{
	struct forget *f = ctx;

	if (e->key >> BLOCK_BITS != f->idx)
		return false;
	to_churn(f->mt, e->val);
	return true;
}

void memtrack__forget_process(struct memtrack *mt, pid_t pid)
{
	uint64_t *idx = u64map_find(&mt->pids, (uint32_t)pid);

	memtrack__release(mt, pid, 0, (PAGE_MASK + 1) << PAGE_SHIFT);
	if (idx) {
		struct forget f = { mt, *idx };

		u64map_del_if(&mt->blocks, block_of, &f);
	}
}

void memtrack__exited(struct memtrack *mt, pid_t pid, double t)
{
	uint64_t bits;

	memcpy(&bits, &t, sizeof(bits));
	*u64map_slot(&mt->exited, (uint32_t)pid, NULL) = bits;
}

/* What each stack reports: now, or for a process gone, as at its time
 * (memtrack__exited): its base plus the log's entries up to then.
 */
static void reported_all(const struct memtrack *mt, uint64_t *ret, uint64_t *churn)
{
	for (size_t i = 0; i < mt->nstacks; i++) {
		const struct mem_stack *s = &mt->stacks[i];
		bool gone = u64map_find(&mt->exited, (uint32_t)s->pid) != NULL;

		ret[i] = gone ? s->base_retained : s->retained;
		churn[i] = gone ? s->base_churn : s->churn;
	}
	for (size_t i = mt->log_first; i < mt->nlog; i++) {
		const struct log_entry *e = &mt->log[i];
		const struct mem_stack *s = &mt->stacks[e->stack];
		uint64_t *bits = u64map_find(&mt->exited, (uint32_t)s->pid);
		double until;

		if (!bits)
			continue;
		memcpy(&until, bits, sizeof(until));
		if (e->t > until)
			continue;
		if (e->released) {
			ret[e->stack] -= e->bytes;
			churn[e->stack] += e->bytes;
		} else {
			ret[e->stack] += e->bytes;
		}
	}
}

void memtrack__totals(const struct memtrack *mt, struct memtrack_totals *t)
{
	uint64_t *r = xcalloc(mt->nstacks + 1, sizeof(*r)),
		 *c = xcalloc(mt->nstacks + 1, sizeof(*c));

	*t = mt->t;
	t->log_folded_early = mt->log_folded_early;
	t->retained = t->churn = 0;
	reported_all(mt, r, c);
	for (size_t i = 0; i < mt->nstacks; i++) {
		t->retained += r[i];
		t->churn += c[i];
	}
	free(r);
	free(c);
}

void memtrack__stacks(const struct memtrack *mt,
		      void (*cb)(const uint32_t *frames, uint32_t n, uint64_t retained,
				 uint64_t churn, void *ctx),
		      void *ctx)
{
	uint64_t *r = xcalloc(mt->nstacks + 1, sizeof(*r)),
		 *c = xcalloc(mt->nstacks + 1, sizeof(*c));

	reported_all(mt, r, c);
	for (size_t i = 0; i < mt->nstacks; i++)
		if (r[i] || c[i])
			cb(mt->stacks[i].frames, mt->stacks[i].n, r[i], c[i], ctx);
	free(r);
	free(c);
}
