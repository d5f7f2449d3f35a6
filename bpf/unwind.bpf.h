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
	__uint(max_entries, RAMPA_UNWIND_ROWS);
	__type(key, __u32);
	__type(value, struct unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RAMPA_UNWIND_TABLES);
	__type(key, __u32);
	__type(value, struct unwind_table);
} unwind_tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_UNWIND_PROCS);
	__type(key, __u32); /* tgid */
	__type(value, struct unwind_proc);
} unwind_procs SEC(".maps");

#define USTACK_MAP(name, entries)                 \
	struct {                                  \
		__uint(type, BPF_MAP_TYPE_HASH);  \
		__uint(max_entries, entries);     \
		__type(key, __u64);               \
		__type(value, struct user_stack); \
	} name SEC(".maps")

USTACK_MAP(ustacks0, RAMPA_STACK_MAP_ENTRIES);
USTACK_MAP(ustacks1, RAMPA_STACK_MAP_ENTRIES);
USTACK_MAP(offcpu_ustacks, RAMPA_OFFCPU_STACK_ENTRIES);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct user_stack);
} unwind_scratch SEC(".maps");

struct unwind_walk {
	struct user_stack *st;
	struct unwind_proc *proc;
	__u64 pc, sp, bp;
	__u64 hash;
	__u32 pid;
	__u32 status;
	bool missed; /* a pc in no mapping the process has */
};

/* Index in pid's unwind_proc of the mapping holding pc, or -1. A global
 * function: the verifier checks it once, not at every step of the walk.
 */
__noinline long unwind_map_index(__u32 pid, __u64 pc)
{
	struct unwind_proc *proc = bpf_map_lookup_elem(&unwind_procs, &pid);
	__u32 lo = 0, hi, mid;

	if (!proc)
		return -1;
	hi = proc->nmaps;
	if (hi > RAMPA_UNWIND_MAPS)
		hi = RAMPA_UNWIND_MAPS;
	/* The last mapping whose start is <= pc. */
	for (int i = 0; i < RAMPA_UNWIND_MAP_STEPS && lo < hi; i++) {
		mid = (lo + hi) / 2;
		if (proc->maps[mid & (RAMPA_UNWIND_MAPS - 1)].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo = (lo - 1) & (RAMPA_UNWIND_MAPS - 1);
	if (pc >= proc->maps[lo].end)
		return -1;
	return lo;
}

/* Index in unwind_rows of the row of table id covering link-time address
 * pc, or -1.
 */
__noinline long unwind_row_index(__u32 id, __u64 pc)
{
	struct unwind_table *t = bpf_map_lookup_elem(&unwind_tables, &id);
	struct unwind_row *row;
	__u32 lo, hi, mid, idx;

	if (!t || !t->nrows || pc > 0xffffffffull)
		return -1;
	lo = 0;
	hi = t->nrows;
	for (int i = 0; i < RAMPA_UNWIND_ROW_STEPS && lo < hi; i++) {
		mid = (lo + hi) / 2;
		idx = t->first + mid;
		row = bpf_map_lookup_elem(&unwind_rows, &idx);
		if (!row)
			return -1;
		if (row->pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	return t->first + lo - 1;
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

static long unwind_step(__u32 i, void *ctx)
{
	struct unwind_walk *w = ctx;
	struct user_stack *st = w->st;
	struct unwind_map *m;
	struct unwind_row *row;
	__u64 lookup, cfa, ra = 0, bp;
	__u32 n = st->n, kind, ret, ridx;
	long idx;

	if (n >= RAMPA_MAX_STACK_DEPTH) {
		w->status = UNWIND_DEPTH;
		return 1;
	}
	st->ips[n] = w->pc;
	st->n = n + 1;
	w->hash = (w->hash ^ w->pc) * 0x100000001b3ULL;
	/* A return address points after its call, perhaps past the function. */
	lookup = n ? w->pc - 1 : w->pc;
	idx = unwind_map_index(w->pid, lookup);
	m = NULL;
	if (idx >= 0) {
		ridx = (__u32)idx;
		/* Keep the bound where the verifier sees it. */
		asm volatile("%0 &= %1" : "+r"(ridx) : "i"(RAMPA_UNWIND_MAPS - 1));
		m = &w->proc->maps[ridx];
	}
	if (!m) {
		w->missed = true;
		ret = unwind_fp_step(w);
		goto stepped;
	}
	if (m->table == RAMPA_UNWIND_NO_TABLE) {
		ret = unwind_fp_step(w);
		goto stepped;
	}
	idx = unwind_row_index(m->table, lookup - m->bias);
	ridx = (__u32)idx;
	row = idx >= 0 ? bpf_map_lookup_elem(&unwind_rows, &ridx) : NULL;
	kind = row ? row->kind & 0xf : UNWIND_GAP;
	switch (kind) {
	case UNWIND_CFA_RSP:
		cfa = w->sp + row->cfa_off;
		break;
	case UNWIND_CFA_RBP:
		cfa = w->bp + row->cfa_off;
		break;
	case UNWIND_END:
		w->status = UNWIND_OK;
		return 1;
	case UNWIND_GAP:
		ret = unwind_fp_step(w);
		goto stepped;
	default:
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

/* Walk the user stack of the current thread of pid from regs into map (a
 * ustacks map); the stack's hash, or 0 when pid has no tables (the kernel's
 * frame-pointer walk is used then) or the stack could not be kept. *status
 * gets how the walk ended.
 */
static __always_inline __u64 unwind_user(struct pt_regs *regs, __u32 pid, void *map, __u32 *status)
{
	struct unwind_walk w = { .pid = pid };
	struct unwind_proc *proc = bpf_map_lookup_elem(&unwind_procs, &pid);
	__u32 zero = 0;
	long err;

	*status = UNWIND_NONE;
	if (!proc || !regs)
		return 0;
	w.st = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!w.st)
		return 0;
	w.proc = proc;
	w.st->n = 0;
	w.pc = BPF_CORE_READ(regs, ip);
	w.sp = BPF_CORE_READ(regs, sp);
	w.bp = BPF_CORE_READ(regs, bp);
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
	*status = w.status;
	w.st->status = w.status;
	w.hash ^= w.status;
	if (!w.hash)
		w.hash = 1;
	err = bpf_map_update_elem(map, &w.hash, w.st, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		stat_inc(STAT_UNWIND_STACK_FULL);
		return 0;
	}
	return w.hash;
}

#endif
