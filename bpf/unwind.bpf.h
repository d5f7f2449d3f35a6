/* SPDX-License-Identifier: GPL-2.0 */
/* User stacks without frame pointers: a walk driven by tables userspace
 * compiled from each file's .eh_frame (see struct unwind_row in capture.h).
 * From the user registers, each step finds the mapping of pc, the row of
 * its table, computes the CFA (rsp or rbp plus an offset), reads the return
 * address at CFA - 8 and the caller's rbp where the row says it is saved.
 * Code no table covers is walked by frame pointers. Every walk cut short is
 * counted by cause.
 */
#ifndef RAMPA_UNWIND_BPF_H
#define RAMPA_UNWIND_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* userspace writes tables in place */
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct unwind_table);
} unwind_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32); /* tgid */
	__type(value, struct unwind_proc);
} unwind_procs SEC(".maps");

/* Allocated as filled: 1 KiB entries preallocated take long to set up. */
#define USTACK_MAP(name)                              \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_HASH);      \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, __u64);                   \
		__type(value, struct user_stack);     \
	} name SEC(".maps")

USTACK_MAP(ustacks0);
USTACK_MAP(ustacks1);
USTACK_MAP(offcpu_ustacks);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct user_stack);
} unwind_scratch SEC(".maps");

/* The walk's state: scalars only, so that the step, a global function, can
 * take it.
 */
struct unwind_walk {
	__u64 pc, sp, bp;
	__u64 hash;
	__u32 pid;
	__u32 n;      /* frames in unwind_scratch so far */
	__u32 status; /* enum unwind_status once the walk ends */
	__u32 missed; /* a pc in no mapping the process has */
};

struct map_search {
	struct unwind_proc *proc;
	__u64 pc;
	__u32 lo, hi;
};

/* One step of the binary search for the last mapping whose start is <= pc. */
static long map_search_step(__u32 i, void *ctx)
{
	struct map_search *s = ctx;
	__u32 mid;

	if (s->lo >= s->hi)
		return 1;
	mid = (s->lo + s->hi) / 2;
	if (s->proc->maps[mid & (RAMPA_UNWIND_MAPS - 1)].start <= s->pc)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/* The mapping of pid holding pc, copied to *out; 0, or -1 when none. A
 * global function: the verifier checks it once, not at every step of the
 * walk.
 */
__noinline long unwind_map_find(__u32 pid, __u64 pc, struct unwind_map *out)
{
	struct unwind_proc *proc = bpf_map_lookup_elem(&unwind_procs, &pid);
	struct map_search s = {};
	__u32 lo;

	if (!proc || !out)
		return -1;
	s.proc = proc;
	s.pc = pc;
	s.hi = proc->nmaps;
	if (s.hi > RAMPA_UNWIND_MAPS)
		s.hi = RAMPA_UNWIND_MAPS;
	bpf_loop(RAMPA_UNWIND_MAP_STEPS, map_search_step, &s, 0);
	lo = s.lo;
	if (!lo)
		return -1;
	lo = (lo - 1) & (RAMPA_UNWIND_MAPS - 1);
	if (pc >= proc->maps[lo].end)
		return -1;
	*out = proc->maps[lo];
	return 0;
}

struct row_search {
	__u64 pc;
	__u32 first, lo, hi;
	__u32 failed;
};

/* One step of the binary search for the last row whose pc is <= pc. */
static long row_search_step(__u32 i, void *ctx)
{
	struct row_search *r = ctx;
	struct unwind_row *row;
	__u32 mid, idx;

	if (r->lo >= r->hi)
		return 1;
	mid = (r->lo + r->hi) / 2;
	idx = r->first + mid;
	row = bpf_map_lookup_elem(&unwind_rows, &idx);
	if (!row) {
		r->failed = 1;
		return 1;
	}
	if (row->pc <= r->pc)
		r->lo = mid + 1;
	else
		r->hi = mid;
	return 0;
}

/* Index in unwind_rows of the row of table id covering link-time address
 * pc, or -1.
 */
__noinline long unwind_row_index(__u32 id, __u64 pc)
{
	struct unwind_table *t = bpf_map_lookup_elem(&unwind_tables, &id);
	struct row_search r = {};

	if (!t || !t->nrows || pc > 0xffffffffull)
		return -1;
	r.pc = pc;
	r.first = t->first;
	r.hi = t->nrows;
	bpf_loop(RAMPA_UNWIND_ROW_STEPS, row_search_step, &r, 0);
	if (r.failed || !r.lo)
		return -1;
	return r.first + r.lo - 1;
}

/* The caller's frame by frame pointers: rbp points at the saved rbp, the
 * return address above it. 0: stepped; else the cause that ends the walk.
 */
static __always_inline __u32 unwind_fp_step(struct unwind_walk *w)
{
	__u64 frame[2];

	if (!w->bp)
		return UNWIND_NO_TABLE;
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)w->bp))
		return UNWIND_NO_TABLE;
	stat_inc(STAT_UNWIND_FP_FRAMES);
	w->sp = w->bp + 16;
	w->bp = frame[0];
	w->pc = frame[1];
	return 0;
}

/* One frame: record pc, find the caller's registers. 0: go on; 1: the walk
 * ended (w->status says how). A global function, verified once.
 */
__noinline long unwind_frame(struct unwind_walk *w)
{
	struct user_stack *st;
	struct unwind_map m;
	struct unwind_row *row;
	__u64 lookup, cfa, ra = 0, bp;
	__u32 zero = 0, n, kind, ret, ridx;
	long idx;

	if (!w)
		return 1;
	st = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!st)
		return 1;
	n = w->n;
	if (n >= RAMPA_MAX_STACK_DEPTH) {
		w->status = UNWIND_DEPTH;
		return 1;
	}
	st->ips[n] = w->pc;
	st->sps[n] = w->sp;
	w->n = n + 1;
	w->hash = (w->hash ^ w->pc) * 0x100000001b3ULL;
	/* A return address points after its call, perhaps past the function. */
	lookup = n ? w->pc - 1 : w->pc;
	if (unwind_map_find(w->pid, lookup, &m)) {
		w->missed = 1;
		ret = unwind_fp_step(w);
		goto stepped;
	}
	if (m.table == RAMPA_UNWIND_NO_TABLE) {
		ret = unwind_fp_step(w);
		goto stepped;
	}
	idx = unwind_row_index(m.table, lookup - m.bias);
	ridx = (__u32)idx;
	row = idx >= 0 ? bpf_map_lookup_elem(&unwind_rows, &ridx) : NULL;
	kind = row ? row->kind & 0xf : UNWIND_GAP;
	if (!row || kind == UNWIND_GAP) {
		ret = unwind_fp_step(w);
		goto stepped;
	}
	if (kind == UNWIND_END) {
		w->status = UNWIND_OK;
		return 1;
	}
	if (kind == UNWIND_CFA_RSP) {
		cfa = w->sp + row->cfa_off;
	} else if (kind == UNWIND_CFA_RBP) {
		cfa = w->bp + row->cfa_off;
	} else {
		w->status = UNWIND_BAD_RULE;
		return 1;
	}
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8))) {
		w->status = UNWIND_UNREADABLE;
		return 1;
	}
	if (row->kind & UNWIND_RBP_SAVED) {
		bp = 0;
		if (bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + (__s64)row->rbp_off * 8))) {
			w->status = UNWIND_UNREADABLE;
			return 1;
		}
		w->bp = bp;
	}
	w->sp = cfa;
	w->pc = ra;
	ret = 0;
stepped:
	if (ret) {
		w->status = ret;
		return 1;
	}
	/* A zero return address ends the chain (threads' start routines). */
	if (!w->pc) {
		w->status = UNWIND_OK;
		return 1;
	}
	return 0;
}

static long unwind_step(__u32 i, void *ctx)
{
	long ret = unwind_frame(ctx);

	/* The verifier sees a global function's result as any scalar: keep
	 * the compiler from folding this test away.
	 */
	asm volatile("" : "+r"(ret));
	return ret ? 1 : 0;
}

/* Walk the user stack of the current thread of pid from its registers into
 * the map r->which names; the stack's hash, or 0 when pid has no tables (the
 * kernel's frame-pointer walk is used then) or the stack could not be kept.
 * r->status gets how the walk ended. A global
 * function: verified once, not at every state of its callers.
 */
struct unwind_start {
	__u64 pc, sp, bp;
	__u32 which;  /* 0, 1: ustacks0, ustacks1; 2: offcpu_ustacks */
	__u32 status; /* out: enum unwind_status */
};

__noinline __u64 unwind_user_from(__u32 pid, struct unwind_start *r)
{
	struct unwind_walk w = { .pid = pid };
	struct unwind_proc *proc;
	struct user_stack *st;
	__u32 zero = 0;
	void *map;
	long err;

	if (!r)
		return 0;
	r->status = UNWIND_NONE;
	proc = bpf_map_lookup_elem(&unwind_procs, &pid);
	if (!proc)
		return 0;
	st = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!st)
		return 0;
	w.pc = r->pc;
	w.sp = r->sp;
	w.bp = r->bp;
	w.hash = 0xcbf29ce484222325ULL;
	w.status = UNWIND_DEPTH;
	stat_inc(STAT_UNWIND_WALKS);
	bpf_loop(RAMPA_MAX_STACK_DEPTH + 1, unwind_step, &w, 0);
	switch (w.status) {
	case UNWIND_NO_TABLE:
		stat_inc(STAT_UNWIND_NO_TABLE);
		break;
	case UNWIND_BAD_RULE:
		stat_inc(STAT_UNWIND_BAD_RULE);
		break;
	case UNWIND_UNREADABLE:
		stat_inc(STAT_UNWIND_UNREADABLE);
		break;
	case UNWIND_DEPTH:
		stat_inc(STAT_UNWIND_DEPTH);
		break;
	}
	/* A library mapped since the tables were made: userspace looks again. */
	if (w.missed) {
		__u64 now = bpf_ktime_get_ns();

		if (now - proc->miss_ns > RAMPA_UNWIND_MISS_GAP_NS) {
			proc->miss_ns = now;
			stat_inc(STAT_UNWIND_MISS_EVENTS);
			emit_event(EVENT_UNWIND_MISS, pid, (__u32)bpf_get_current_pid_tgid(), 0);
		}
	}
	r->status = w.status;
	st->n = w.n;
	st->status = w.status;
	w.hash ^= w.status;
	if (!w.hash)
		w.hash = 1;
	map = r->which == 2 ? (void *)&offcpu_ustacks
	      : r->which    ? (void *)&ustacks1
			    : (void *)&ustacks0;
	err = bpf_map_update_elem(map, &w.hash, st, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		stat_inc(STAT_UNWIND_STACK_FULL);
		return 0;
	}
	return w.hash;
}

static __always_inline __u64 unwind_user(struct pt_regs *regs, __u32 pid, __u32 which,
					 __u32 *status)
{
	struct unwind_start r = { .which = which };
	__u64 hash;

	*status = UNWIND_NONE;
	if (!regs)
		return 0;
	r.pc = BPF_CORE_READ(regs, ip);
	r.sp = BPF_CORE_READ(regs, sp);
	r.bp = BPF_CORE_READ(regs, bp);
	hash = unwind_user_from(pid, &r);
	*status = r.status;
	return hash;
}

#endif
