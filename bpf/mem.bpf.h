/* SPDX-License-Identifier: GPL-2.0 */
/* rampa-bpf mem: what grows a target's memory. Included near the end of
 * capture.bpf.c, whose targets, Python walker and stats it shares (and
 * before lifecycle.bpf.h, whose exec program calls mem_on_exec).
 *
 * Resident growth is sampled where it happens: a write fault on an anonymous
 * page gives the process a new page (read faults map the shared zero page).
 * One fault in mem_fault_sample is taken, with its stack, and stands for that
 * many pages. What gives memory back (munmap, madvise, a shrinking brk, an
 * mremap, a mapping over a range) is sent as an address range: userspace
 * keeps the sampled pages by address and moves those given back to churn.
 */
#ifndef RAMPA_MEM_BPF_H
#define RAMPA_MEM_BPF_H

#include "mem.h"

#define NR_mmap	   9
#define NR_munmap  11
#define NR_brk	   12
#define NR_mremap  25
#define NR_madvise 28

#define MAP_FIXED      0x10
#define MADV_DONTNEED  4
#define MADV_FREE      8
#define MADV_REMOVE    9
#define X86_PF_WRITE   2
#define MAX_ERRNO_ADDR ((__u64)-4095)

const volatile bool mem_enabled = false;
const volatile __u32 mem_fault_sample = RAMPA_MEM_FAULT_SAMPLE;
const volatile bool mem_precise = false; /* --precise: mmap and munmap make and free blocks */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} mem_events SEC(".maps");

/* Persistent: a sampled fault's stack is read by userspace after its event. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RAMPA_MAX_STACK_DEPTH * sizeof(__u64));
} mem_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct py_stack);
} mem_py_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct mem_call);
} mem_calls SEC(".maps");

/* Out without a wakeup each (an interrupt and a wakeup, microseconds in
 * the thread that faulted or allocated): mem's loop polls every
 * MEM_RSS_INTERVAL_SEC anyway. Woken when a quarter of the ring is used.
 */
static __always_inline void mem_submit(struct mem_event *e)
{
	__u64 used = bpf_ringbuf_query(&mem_events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&mem_events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(e, used > size / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* The run's window is open, and the current process is not CMD before its
 * exec.
 */
static __always_inline bool mem_in_window(void)
{
	return begin_ns && !(end_ns && bpf_ktime_get_ns() > end_ns) &&
	       (!mem_hold_tgid || bpf_get_current_pid_tgid() >> 32 != mem_hold_tgid);
}

/* Sized at load time (capture_maps.c). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32); /* tgid */
	__type(value, struct mem_vmas);
} mem_vmas SEC(".maps");

struct mem_vma_found {
	__u64 start, end;
	bool anon;
};

static long mem_vma_anon(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	struct mem_vma_found *f = ctx;

	f->anon = vma->vm_file == NULL;
	f->start = vma->vm_start;
	f->end = vma->vm_end;
	return 0;
}

/* Whether address lies in an anonymous mapping of task (file pages, a data
 * section or a file mapped private, are not growth). Without the lock
 * (-EBUSY), the fault is taken as anonymous. Two threads filling a slot at
 * once can leave one mapping's start with the other's end: at worst a
 * sampled fault filed on the wrong side until the slot is reused.
 */
static __always_inline bool mem_fault_anon(struct task_struct *task, __u32 tgid, __u64 address)
{
	struct mem_vma_found f = { .anon = true };
	struct mem_vmas *c = bpf_map_lookup_elem(&mem_vmas, &tgid), fresh = {};
	__u32 i;

	if (c) {
		for (i = 0; i < RAMPA_MEM_VMAS; i++)
			if (address >= c->start[i] && address < c->end[i])
				return c->anon & (1u << i);
	}
	if (bpf_find_vma(task, address, mem_vma_anon, &f, 0) || !f.end)
		return f.anon;
	if (!c) {
		bpf_map_update_elem(&mem_vmas, &tgid, &fresh, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&mem_vmas, &tgid);
		if (!c)
			return f.anon;
	}
	i = c->next % RAMPA_MEM_VMAS;
	c->next = i + 1;
	c->start[i] = f.start;
	c->end[i] = f.end;
	if (f.anon)
		c->anon |= 1u << i;
	else
		c->anon &= ~(1u << i);
	return f.anon;
}

/* tgid execs a new image, before it runs a single instruction: CMD held
 * until then counts from now on; the old image's mappings are gone.
 */
static __always_inline void mem_on_exec(__u32 tgid)
{
	struct mem_event *e;

	if (!mem_enabled)
		return;
	if (tgid == mem_hold_tgid)
		mem_hold_tgid = 0;
	bpf_map_delete_elem(&mem_vmas, &tgid);
	/* On the memory events' own ring: the old image's pages go before
	 * the new image's first ones come (the lifecycle event, on another
	 * ring, could be handled after them, and took them too).
	 */
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_MEM_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MEM_EXEC;
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = tgid;
	bpf_ringbuf_submit(e, 0);
}

/* A call that can put another mapping where one was (unmap, move, map over,
 * shrink the heap): the process's remembered mappings go, at its entry and
 * again at its exit (a fault of another thread in between).
 */
static __always_inline void mem_vmas_forget(const struct mem_call *c, __u32 tgid)
{
	if (c->nr == NR_munmap || c->nr == NR_mremap ||
	    (c->nr == NR_mmap && (c->args[3] & MAP_FIXED)) ||
	    (c->nr == NR_brk && c->args[0] && c->args[0] < c->old_brk))
		bpf_map_delete_elem(&mem_vmas, &tgid);
}

/* The stacks of a memory event into k (pid, tid and kind set): Python by
 * the walker; native by the engine's CFI unwinder (into the persistent
 * unwound-stack map, read by kind as off-CPU stacks are), else the leaf
 * alone under Python, else frame pointers. No kernel stack: the path into
 * the fault or the allocator is the same for every event.
 */
static __always_inline void mem_stack(struct sample_key *k, struct pt_regs *regs, void *ctx,
				      __u32 tgid)
{
	long sid;

	k->user_stack_id = -1;
	k->kern_stack_id = -1;
	py_capture(k, &mem_py_stacks);
	if (k->py_status == PY_MAP_FULL)
		stat_inc(STAT_MEM_STACK_FULL);
	k->user_stack = unwind_user(regs, tgid, 2, 0, &k->unwind_status);
	if (k->user_stack || k->unwind_status != UNWIND_NONE) {
		/* walked by the CFI unwinder */
	} else if ((k->py_status == PY_OK || k->py_status == PY_TRUNCATED) && py_leaf_only(tgid)) {
		k->user_ip = BPF_CORE_READ(regs, ip);
	} else {
		sid = bpf_get_stackid(ctx, &mem_stacks, BPF_F_USER_STACK);
		if (sid >= 0)
			k->user_stack_id = sid;
		else if (sid == -ENOMEM)
			stat_inc(STAT_MEM_STACK_FULL);
		else
			count_stack_error(sid, true);
	}
}

/* A write fault at address, with the user registers regs: sampled. */
static __always_inline int mem_fault(void *ctx, unsigned long address, struct pt_regs *regs,
				     unsigned long error_code)
{
	struct task_struct *task;
	struct mem_event *e;
	__u32 tgid;

	/* Every write fault of the machine comes here: the sampling draw
	 * first, the target lookup for the one fault in mem_fault_sample
	 * drawn.
	 */
	if (!mem_enabled || !(error_code & X86_PF_WRITE))
		return 0;
	if (mem_fault_sample > 1 && bpf_get_prandom_u32() % mem_fault_sample)
		return 0;
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	if (!is_target_btf(tgid, task) || !mem_in_window() || !mem_fault_anon(task, tgid, address))
		return 0;
	stat_inc(STAT_MEM_FAULTS);
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_MEM_EVENTS_LOST);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = MEM_FAULT;
	e->ts = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = task->pid;
	e->addr = address & ~(__u64)(RAMPA_MEM_PAGE_BYTES - 1);
	e->len = (__u64)mem_fault_sample * RAMPA_MEM_PAGE_BYTES;
	e->key.pid = tgid;
	e->key.tid = task->pid;
	e->key.kind = KIND_MEM;
	mem_stack(&e->key, regs, ctx, tgid);
	mem_submit(e);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_mem_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return mem_fault(ctx, address, regs, error_code);
}

#define USER_ADDR_END 0x00007ffffffff000ull

/* The kernel writing into the process's memory that no page backs yet: a
 * read() or recv() into a fresh buffer (a file read whole into new bytes),
 * pages the process gets without a fault of its own. Its stack is that of
 * the system call: the user registers saved at entry.
 */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(on_mem_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if (address >= USER_ADDR_END)
		return 0;
	return mem_fault(ctx, address,
			 (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()),
			 error_code);
}

/* A memory call of a target entered (the syscall tracepoints of the five
 * calls: the programs run for these calls only, not for every syscall of
 * the machine as on raw sys_enter). --precise follows mmap and munmap only.
 */
static __always_inline int mem_sys_enter(long id, struct trace_event_raw_sys_enter *ctx, int nargs)
{
	struct task_struct *task;
	struct mem_call call = {};
	__u32 tid;

	if (!mem_enabled)
		return 0;
	task = bpf_get_current_task_btf();
	if (!is_target_btf(task->tgid, task) || !mem_in_window())
		return 0;
	call.nr = id;
	/* A call's record holds its own arguments only: reading past them
	 * fails the attach (EACCES).
	 */
	call.args[0] = ctx->args[0];
	if (nargs > 1)
		call.args[1] = ctx->args[1];
	if (nargs > 2)
		call.args[2] = ctx->args[2];
	if (nargs > 3)
		call.args[3] = ctx->args[3];
	if (id == NR_brk)
		call.old_brk = task->mm->brk;
	call.ts = bpf_ktime_get_ns();
	tid = task->pid;
	mem_vmas_forget(&call, task->tgid);
	if (bpf_map_update_elem(&mem_calls, &tid, &call, BPF_ANY))
		stat_inc(STAT_MEM_CALLS_FULL);
	return 0;
}

/* A release or move of the call c (its entry time, its number) out. */
static __always_inline void mem_emit(const struct mem_call *c, __u32 type, __u64 addr, __u64 len,
				     __u64 addr2, __u64 len2)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mem_event *e;

	if (!len && type != MEM_MOVE)
		return;
	e = bpf_ringbuf_reserve(&mem_events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_MEM_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts = c->ts;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->nr = c->nr;
	e->addr = addr;
	e->len = len;
	e->addr2 = addr2;
	e->len2 = len2;
	/* Whether Python code runs on this thread: an interpreter shutting
	 * down (no frame left) frees what the program held.
	 */
	e->key.pid = e->pid;
	e->key.tid = e->tid;
	e->key.kind = KIND_MEM;
	py_capture(&e->key, &mem_py_stacks);
	mem_submit(e);
}

#include "memalloc.bpf.h"

static __always_inline int mem_sys_exit(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_call *c;
	__u64 r = ret;

	if (!mem_enabled)
		return 0;
	c = bpf_map_lookup_elem(&mem_calls, &tid);
	if (!c)
		return 0;
	mem_vmas_forget(c, bpf_get_current_pid_tgid() >> 32);
	if (mem_precise) {
		if (c->nr == NR_mmap)
			alloc_mapped(ctx, r, c);
		else if (c->nr == NR_munmap && ret == 0)
			alloc_unmapped(c);
		else if (c->nr == NR_mremap && r < MAX_ERRNO_ADDR)
			alloc_remapped(ctx, c, r);
		bpf_map_delete_elem(&mem_calls, &tid);
		return 0;
	}
	switch (c->nr) {
	case NR_brk:
		/* brk returns the new break: below the old, the top was trimmed. */
		if (r < c->old_brk)
			mem_emit(c, MEM_RELEASE, r, c->old_brk - r, 0, 0);
		break;
	case NR_munmap:
		if (ret == 0)
			mem_emit(c, MEM_RELEASE, c->args[0], c->args[1], 0, 0);
		break;
	case NR_madvise:
		if (ret == 0 && (c->args[2] == MADV_DONTNEED || c->args[2] == MADV_FREE ||
				 c->args[2] == MADV_REMOVE))
			mem_emit(c, MEM_RELEASE, c->args[0], c->args[1], 0, 0);
		break;
	case NR_mmap:
		/* A fixed mapping replaces the pages that were there. */
		if (r < MAX_ERRNO_ADDR && (c->args[3] & MAP_FIXED))
			mem_emit(c, MEM_RELEASE, r, c->args[1], 0, 0);
		break;
	case NR_mremap:
		if (r < MAX_ERRNO_ADDR)
			mem_emit(c, MEM_MOVE, c->args[0], c->args[1], r, c->args[2]);
		break;
	}
	bpf_map_delete_elem(&mem_calls, &tid);
	return 0;
}

#define MEM_SYSCALL(name, nargs)                                       \
	SEC("tracepoint/syscalls/sys_enter_" #name)                    \
	int on_sys_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{                                                              \
		return mem_sys_enter(NR_##name, ctx, nargs);           \
	}                                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                     \
	int on_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)   \
	{                                                              \
		return mem_sys_exit(ctx, ctx->ret);                    \
	}

MEM_SYSCALL(mmap, 6)
MEM_SYSCALL(munmap, 2)
MEM_SYSCALL(brk, 1)
MEM_SYSCALL(mremap, 5)
MEM_SYSCALL(madvise, 3)

#endif
