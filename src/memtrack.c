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

/* What is left of a sampled mapping (--precise: made outside the
 * allocator): [start, end), standing for bytes, of stack. A process's are
 * disjoint, in address order.
 */
struct map_rec {
	uint64_t start, end, bytes;
	uint32_t stack;
};

struct map_set {
	struct map_rec *v;
	size_t n, cap;
};

struct memtrack {
	struct u64map blocks;	/* key: see BLOCK_BITS; val: bytes << 32 | stack */
	struct u64map map_sets; /* pid -> its index in map_sets_v */
	struct map_set *map_sets_v;
	size_t nmap_sets, map_sets_cap;
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
	mt->map_sets = (struct u64map)U64MAP_INIT;
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
	for (size_t i = 0; i < mt->nmap_sets; i++)
		free(mt->map_sets_v[i].v);
	free(mt->map_sets_v);
	u64map_free(&mt->map_sets);
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

/* Bytes of stack given back: churn from now on. */
static void to_churn_bytes(struct memtrack *mt, uint32_t stack, uint64_t bytes)
{
	struct mem_stack *s = &mt->stacks[stack];

	log_add(mt, stack, true, bytes);
	s->retained -= bytes;
	s->churn += bytes;
	mt->t.retained -= bytes;
	mt->t.churn += bytes;
}

/* A sampled page or block given back (val: bytes << 32 | stack). */
static void to_churn(struct memtrack *mt, uint64_t val)
{
	to_churn_bytes(mt, (uint32_t)val, val >> 32);
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

static void pages_release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len)
{
	struct range r;

	take_range(mt, pid, addr, len, &r);
	for (size_t i = 0; i < r.ntaken; i += 2)
		to_churn(mt, r.taken[i + 1]);
	free(r.taken);
}

void memtrack__release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len)
{
	mt->t.releases++;
	pages_release(mt, pid, addr, len);
}

void memtrack__move(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, uint64_t addr2,
		    uint64_t len2)
{
	struct range r;

	mt->t.releases++;
	take_range(mt, pid, addr, len, &r);
	/* What was at the destination is gone (MREMAP_FIXED maps over it). */
	pages_release(mt, pid, addr2, len2);
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

#define PAGE_ROUND(n) (((n) + (1ull << PAGE_SHIFT) - 1) & ~((1ull << PAGE_SHIFT) - 1))

static struct map_set *map_set_of(struct memtrack *mt, pid_t pid, bool add)
{
	uint64_t *idx;
	bool added;

	if (!add) {
		idx = u64map_find(&mt->map_sets, (uint32_t)pid);
		return idx ? &mt->map_sets_v[*idx] : NULL;
	}
	idx = u64map_slot(&mt->map_sets, (uint32_t)pid, &added);
	if (added) {
		grow_array((void **)&mt->map_sets_v, &mt->map_sets_cap, mt->nmap_sets + 1,
			   sizeof(*mt->map_sets_v));
		memset(&mt->map_sets_v[mt->nmap_sets], 0, sizeof(*mt->map_sets_v));
		*idx = mt->nmap_sets++;
	}
	return &mt->map_sets_v[*idx];
}

/* The first record ending above addr (they are disjoint: ends are sorted). */
static size_t map_first(const struct map_set *ms, uint64_t addr)
{
	size_t lo = 0, hi = ms->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void map_insert_at(struct map_set *ms, size_t i, const struct map_rec *r)
{
	grow_array((void **)&ms->v, &ms->cap, ms->n + 1, sizeof(*ms->v));
	memmove(ms->v + i + 1, ms->v + i, (ms->n - i) * sizeof(*ms->v));
	ms->v[i] = *r;
	ms->n++;
}

/* part of a record's bytes for part of its length: shares of a cut add up
 * to the whole (the last piece takes the rest).
 */
static uint64_t share_of(uint64_t bytes, uint64_t part, uint64_t len)
{
	return (uint64_t)((unsigned __int128)bytes * part / len);
}

struct map_taken {
	struct map_rec *v;
	size_t n, cap;
};

/* Take [lo, hi) out of pid's records: the pieces cut out into *taken, or,
 * taken NULL, to churn. A record cut in the middle leaves two.
 */
static void map_cut(struct memtrack *mt, struct map_set *ms, uint64_t lo, uint64_t hi,
		    struct map_taken *taken)
{
	size_t i;

	if (!ms || hi <= lo)
		return;
	for (i = map_first(ms, lo); i < ms->n && ms->v[i].start < hi;) {
		struct map_rec r = ms->v[i], left = r, right = r, piece = r;
		uint64_t len = r.end - r.start;
		bool has_left = r.start<lo, has_right = r.end> hi;

		left.end = lo;
		left.bytes = has_left ? share_of(r.bytes, lo - r.start, len) : 0;
		right.start = hi;
		right.bytes = has_right ? share_of(r.bytes, r.end - hi, len) : 0;
		piece.start = has_left ? lo : r.start;
		piece.end = has_right ? hi : r.end;
		piece.bytes = r.bytes - left.bytes - right.bytes;
		if (taken) {
			grow_array((void **)&taken->v, &taken->cap, taken->n + 1,
				   sizeof(*taken->v));
			taken->v[taken->n++] = piece;
		} else if (piece.bytes) {
			to_churn_bytes(mt, piece.stack, piece.bytes);
		}
		if (has_left && has_right) {
			ms->v[i] = left;
			map_insert_at(ms, i + 1, &right);
			break;
		} else if (has_left) {
			ms->v[i++] = left;
		} else if (has_right) {
			ms->v[i] = right;
			break;
		} else {
			memmove(ms->v + i, ms->v + i + 1, (ms->n - i - 1) * sizeof(*ms->v));
			ms->n--;
		}
	}
}

/* r goes in (its range is free: cut before). */
static void map_put(struct map_set *ms, const struct map_rec *r)
{
	map_insert_at(ms, map_first(ms, r->start), r);
}

void memtrack__map_alloc(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len,
			 uint64_t bytes, uint32_t stack)
{
	struct map_rec r = { addr, addr + PAGE_ROUND(len), bytes, stack };
	struct map_set *ms;
	struct map_taken stale = { 0 };

	mt->t.sampled += bytes;
	if (stack >= mt->nstacks || !len || r.end < addr) {
		mt->t.unplaced += bytes;
		return;
	}
	ms = map_set_of(mt, pid, true);
	/* Records there: mappings whose end was not seen (lost). */
	map_cut(mt, ms, r.start, r.end, &stale);
	for (size_t i = 0; i < stale.n; i++) {
		mt->t.refaulted += stale.v[i].bytes;
		if (stale.v[i].bytes)
			to_churn_bytes(mt, stale.v[i].stack, stale.v[i].bytes);
	}
	free(stale.v);
	map_put(ms, &r);
	log_add(mt, stack, false, bytes);
	mt->stacks[stack].retained += bytes;
	mt->t.retained += bytes;
}

void memtrack__map_release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len)
{
	mt->t.releases++;
	map_cut(mt, map_set_of(mt, pid, false), addr,
		len > UINT64_MAX - addr - (1u << PAGE_SHIFT) ? UINT64_MAX : addr + PAGE_ROUND(len),
		NULL);
}

void memtrack__map_move(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, uint64_t addr2,
			uint64_t len2, uint64_t grown_bytes, int64_t grown_stack)
{
	struct map_set *ms = map_set_of(mt, pid, grown_stack >= 0);
	struct map_taken moved = { 0 };

	len = PAGE_ROUND(len);
	len2 = PAGE_ROUND(len2);
	mt->t.releases++;
	map_cut(mt, ms, addr, addr + len, &moved);
	/* What was at the destination is gone (MREMAP_FIXED maps over it). */
	map_cut(mt, ms, addr2, addr2 + len2, NULL);
	for (size_t i = 0; i < moved.n; i++) {
		struct map_rec r = moved.v[i];
		uint64_t off = r.start - addr, keep;

		/* Shrunk: what lay past the new length is given back. */
		if (off >= len2) {
			if (r.bytes)
				to_churn_bytes(mt, r.stack, r.bytes);
			continue;
		}
		if (r.end - addr > len2) {
			keep = share_of(r.bytes, len2 - off, r.end - r.start);
			if (r.bytes - keep)
				to_churn_bytes(mt, r.stack, r.bytes - keep);
			r.bytes = keep;
			r.end = addr + len2;
		}
		r.start = addr2 + off;
		r.end = addr2 + (r.end - addr);
		map_put(ms, &r);
	}
	free(moved.v);
	if (grown_stack >= 0 && len2 > len)
		memtrack__map_alloc(mt, pid, addr2 + len, len2 - len, grown_bytes,
				    (uint32_t)grown_stack);
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

	mt->t.releases++;
	pages_release(mt, pid, 0, (PAGE_MASK + 1) << PAGE_SHIFT);
	map_cut(mt, map_set_of(mt, pid, false), 0, UINT64_MAX, NULL);
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
