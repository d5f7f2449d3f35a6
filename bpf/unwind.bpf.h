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

/* Bumped by the loader after each change of rows, tables or a process's
 * mappings: a walk remembered under another generation is not reused.
 */
volatile __u64 unwind_gen;

/* Every word of stack memory the current walk read, in order: given the
 * same registers, tables and words, the walk is the same (it reads nothing
 * else).
 */
struct unwind_reads {
	__u32 n;
	__u32 unusable; /* a read failed, or more than RAMPA_UNWIND_MEMO_READS */
	__u64 addr[RAMPA_UNWIND_MEMO_READS];
	__u64 val[RAMPA_UNWIND_MEMO_READS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_reads);
} unwind_reads SEC(".maps");

struct unwind_start {
	__u64 pc, sp, bp;
	__u32 which;  /* 0, 1: ustacks0, ustacks1; 2: offcpu_ustacks */
	__u32 reuse;  /* 1: reuse one of the thread's last walks when checked unchanged */
	__u32 status; /* out: enum unwind_status */
};

/* A walk at a switch-out: its registers, where the stack it gave is kept,
 * and the words it read (offsets from lo).
 */
struct unwind_memo {
	__u64 pc, sp, bp;
	__u64 gen;  /* unwind_gen before the walk */
	__u64 hash; /* in offcpu_ustacks; 0: nothing kept */
	__u64 lo;   /* lowest address read */
	__u32 pid;
	__u32 status;
	__u32 nreads;
	__u32 span; /* bytes from lo covering every word read */
	__u32 off[RAMPA_UNWIND_MEMO_READS];
	__u64 val[RAMPA_UNWIND_MEMO_READS];
};

/* A thread's last two walks; last: the slot used last (the other one is
 * replaced first).
 */
struct unwind_memos {
	struct unwind_memo slot[2];
	__u32 last;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct unwind_memos);
} unwind_memos SEC(".maps");

static __always_inline bool memo_matches(const struct unwind_memo *m, __u32 pid,
					 const struct unwind_start *r)
{
	return m->pid == pid && m->pc == r->pc && m->sp == r->sp && m->bp == r->bp;
}

/* The stack span of a memo, read back in one copy to check its words. */
struct unwind_span {
	char b[RAMPA_UNWIND_MEMO_SPAN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_span);
} unwind_span SEC(".maps");

static __always_inline void unwind_log(__u64 addr, __u64 val)
{
	__u32 zero = 0, i;
	struct unwind_reads *l = bpf_map_lookup_elem(&unwind_reads, &zero);

	if (!l)
		return;
	i = l->n;
	if (i >= RAMPA_UNWIND_MEMO_READS) {
		l->unusable = 1;
		return;
	}
	l->addr[i] = addr;
	l->val[i] = val;
	l->n = i + 1;
}

static __always_inline void unwind_log_failed(void)
{
	__u32 zero = 0;
	struct unwind_reads *l = bpf_map_lookup_elem(&unwind_reads, &zero);

	if (l)
		l->unusable = 1;
}

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
	__u32 log;    /* log the words read in unwind_reads (to remember the walk) */
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
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)w->bp)) {
		unwind_log_failed();
		return UNWIND_NO_TABLE;
	}
	if (w->log) {
		unwind_log(w->bp, frame[0]);
		unwind_log(w->bp + 8, frame[1]);
	}
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
	cfa = row->kind & UNWIND_CFA_X8 ? (__s64)row->cfa_off * 8 : row->cfa_off;
	if (kind == UNWIND_CFA_RSP) {
		cfa += w->sp;
	} else if (kind == UNWIND_CFA_RBP) {
		cfa += w->bp;
	} else if (kind == UNWIND_CFA_PLT) {
		cfa += w->sp + ((__s64)(w->pc & 15) >= row->rbp_off ? 8 : 0);
	} else {
		w->status = UNWIND_BAD_RULE;
		return 1;
	}
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)(cfa - 8))) {
		unwind_log_failed();
		w->status = UNWIND_UNREADABLE;
		return 1;
	}
	if (w->log)
		unwind_log(cfa - 8, ra);
	if (row->kind & UNWIND_RBP_SAVED) {
		bp = 0;
		if (bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + (__s64)row->rbp_off * 8))) {
			unwind_log_failed();
			w->status = UNWIND_UNREADABLE;
			return 1;
		}
		if (w->log)
			unwind_log(cfa + (__s64)row->rbp_off * 8, bp);
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

/* Stacks cut, by cause: each stack given, walked or reused. */
static __always_inline void count_unwind_status(__u32 status)
{
	switch (status) {
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
}

struct memo_check {
	struct unwind_memo *m;
	struct unwind_span *buf;
	__u32 n;
	__u32 differ;
};

/* One of the current thread's last walks, if it is the walk these
 * registers would give now: same process, registers and table generation,
 * and every word it read still holding what it held (read back in one
 * copy). Its stack's hash with r->status set, or 0: walk.
 */
__noinline __u64 unwind_memo_reuse(__u32 pid, struct unwind_start *r)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct memo_check c = {};
	struct unwind_memos *p;
	struct unwind_memo *m;
	__u32 zero = 0, span, i = 0;

	if (!r || r->which != 2)
		return 0;
	p = bpf_task_storage_get(&unwind_memos, task, 0, 0);
	if (!p)
		return 0;
	m = &p->slot[0];
	if (!memo_matches(m, pid, r)) {
		i = 1;
		m = &p->slot[1];
		if (!memo_matches(m, pid, r))
			return 0;
	}
	if (!m->hash || m->gen != unwind_gen)
		return 0;
	c.buf = bpf_map_lookup_elem(&unwind_span, &zero);
	if (!c.buf)
		return 0;
	span = m->span;
	if (span < 8 || span > RAMPA_UNWIND_MEMO_SPAN ||
	    bpf_probe_read_user(c.buf->b, span, (void *)m->lo)) {
		m->hash = 0;
		stat_inc(STAT_UNWIND_CHANGED);
		return 0;
	}
	c.m = m;
	c.n = m->nreads;
	/* A plain bounded loop, not bpf_loop(): a callback per word is an
	 * indirect call, which costs ~10-20 ns with retpolines.
	 */
	for (__u32 k = 0; k < RAMPA_UNWIND_MEMO_READS; k++) {
		__u32 off;

		if (k >= c.n)
			break;
		off = m->off[k];
		if (off > RAMPA_UNWIND_MEMO_SPAN - 8 || *(__u64 *)(c.buf->b + off) != m->val[k]) {
			c.differ = 1;
			break;
		}
	}
	/* Still in the map: the off-CPU stacks are kept for the whole run, but
	 * an entry that is not there cannot be named.
	 */
	if (c.differ || !bpf_map_lookup_elem(&offcpu_ustacks, &m->hash)) {
		m->hash = 0;
		stat_inc(STAT_UNWIND_CHANGED);
		return 0;
	}
	r->status = m->status;
	p->last = i;
	stat_inc(STAT_UNWIND_REUSED);
	return m->hash;
}

struct memo_fill {
	struct unwind_reads *l;
	struct unwind_memo *m;
	__u64 lo, hi;
};

static long memo_bounds_step(__u32 i, void *ctx)
{
	struct memo_fill *f = ctx;
	__u64 a;

	if (i >= f->l->n || i >= RAMPA_UNWIND_MEMO_READS)
		return 1;
	a = f->l->addr[i & (RAMPA_UNWIND_MEMO_READS - 1)];
	if (a < f->lo)
		f->lo = a;
	if (a + 8 > f->hi)
		f->hi = a + 8;
	return 0;
}

static long memo_fill_step(__u32 i, void *ctx)
{
	struct memo_fill *f = ctx;
	__u32 j = i & (RAMPA_UNWIND_MEMO_READS - 1);

	if (i >= f->l->n || i >= RAMPA_UNWIND_MEMO_READS)
		return 1;
	f->m->off[j] = f->l->addr[j] - f->lo;
	f->m->val[j] = f->l->val[j];
	return 0;
}

/* Remember the walk just made by the current thread (in unwind_reads) as
 * the one its registers in r give, kept under hash: in the slot of these
 * registers, else in the one used least recently.
 */
__noinline long unwind_memo_keep(__u32 pid, struct unwind_start *r, __u64 hash, __u64 gen)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct memo_fill f = { .lo = ~0ull };
	struct unwind_memos *p;
	struct unwind_memo *m;
	__u32 zero = 0, i;

	if (!r || r->which != 2)
		return 0;
	f.l = bpf_map_lookup_elem(&unwind_reads, &zero);
	if (!f.l)
		return 0;
	p = bpf_task_storage_get(&unwind_memos, task, 0, 0);
	if (p) {
		/* A walk kept for these registers was found changed: not again. */
		if (memo_matches(&p->slot[0], pid, r))
			p->slot[0].hash = 0;
		if (memo_matches(&p->slot[1], pid, r))
			p->slot[1].hash = 0;
	}
	if (f.l->unusable || !f.l->n) {
		stat_inc(STAT_UNWIND_NOT_KEPT);
		return 0;
	}
	bpf_loop(RAMPA_UNWIND_MEMO_READS, memo_bounds_step, &f, 0);
	if (f.hi <= f.lo || f.hi - f.lo > RAMPA_UNWIND_MEMO_SPAN) {
		stat_inc(STAT_UNWIND_NOT_KEPT);
		return 0;
	}
	if (!p)
		p = bpf_task_storage_get(&unwind_memos, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		stat_inc(STAT_UNWIND_NOT_KEPT);
		return 0;
	}
	if (memo_matches(&p->slot[0], pid, r))
		i = 0;
	else if (memo_matches(&p->slot[1], pid, r))
		i = 1;
	else
		i = (p->last & 1) ^ 1;
	m = &p->slot[i & 1];
	p->last = i & 1;
	f.m = m;
	bpf_loop(RAMPA_UNWIND_MEMO_READS, memo_fill_step, &f, 0);
	m->pc = r->pc;
	m->sp = r->sp;
	m->bp = r->bp;
	m->gen = gen;
	m->lo = f.lo;
	m->span = f.hi - f.lo;
	m->pid = pid;
	m->status = r->status;
	m->nreads = f.l->n;
	m->hash = hash;
	return 0;
}

/* Walk the user stack of the current thread of pid from its registers into
 * the map r->which names; the stack's hash, or 0 when pid has no tables (the
 * kernel's frame-pointer walk is used then) or the stack could not be kept.
 * r->status gets how the walk ended. With r->reuse (offcpu_ustacks only),
 * the thread's last walk is given again when checked unchanged, and a new
 * walk is remembered. A global function: verified once, not at every state
 * of its callers.
 */
__noinline __u64 unwind_user_from(__u32 pid, struct unwind_start *r)
{
	struct unwind_walk w = { .pid = pid };
	struct unwind_reads *log;
	struct unwind_proc *proc;
	struct user_stack *st;
	__u32 zero = 0;
	__u64 gen = 0;
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
	if (r->reuse) {
		__u64 hash = unwind_memo_reuse(pid, r);

		if (hash) {
			count_unwind_status(r->status);
			return hash;
		}
		log = bpf_map_lookup_elem(&unwind_reads, &zero);
		if (!log)
			return 0;
		log->n = 0;
		log->unusable = 0;
		gen = unwind_gen;
		w.log = 1;
	}
	w.pc = r->pc;
	w.sp = r->sp;
	w.bp = r->bp;
	w.hash = 0xcbf29ce484222325ULL;
	w.status = UNWIND_DEPTH;
	stat_inc(STAT_UNWIND_WALKS);
	bpf_loop(RAMPA_MAX_STACK_DEPTH + 1, unwind_step, &w, 0);
	count_unwind_status(w.status);
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
	/* A walk that met an unknown mapping is made again once userspace has
	 * looked (the generation changes then too).
	 */
	if (r->reuse && !w.missed)
		unwind_memo_keep(pid, r, w.hash, gen);
	return w.hash;
}

static __always_inline __u64 unwind_user(struct pt_regs *regs, __u32 pid, __u32 which, __u32 reuse,
					 __u32 *status)
{
	struct unwind_start r = { .which = which, .reuse = reuse };
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

/* unwind_user() from registers already read (the scheduler hook reads them
 * with plain loads: bpf_task_pt_regs() gives a BTF pointer).
 */
static __always_inline __u64 unwind_user_regs(__u64 pc, __u64 sp, __u64 bp, __u32 pid, __u32 which,
					      __u32 reuse, __u32 *status)
{
	struct unwind_start r = { .pc = pc, .sp = sp, .bp = bp, .which = which, .reuse = reuse };
	__u64 hash;

	hash = unwind_user_from(pid, &r);
	*status = r.status;
	return hash;
}

#endif
