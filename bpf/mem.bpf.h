/* SPDX-License-Identifier: GPL-2.0 */
/* rampa-bpf mem: what grows a target's memory. Included at the end of
 * capture.bpf.c, whose targets, Python walker and stats it shares.
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

static __always_inline bool mem_in_window(void)
{
	return begin_ns && !(end_ns && bpf_ktime_get_ns() > end_ns);
}

static long mem_vma_anon(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	*(bool *)ctx = vma->vm_file == NULL;
	return 0;
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

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_mem_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	struct mem_event *e;
	bool anon = true;

	if (!mem_enabled || !(error_code & X86_PF_WRITE) || !is_target_btf(tgid, task) ||
	    !mem_in_window())
		return 0;
	if (mem_fault_sample > 1 && bpf_get_prandom_u32() % mem_fault_sample)
		return 0;
	/* File pages (a data section, a file mapped private) are not growth.
	 * Without the lock (-EBUSY), the fault is taken as anonymous.
	 */
	bpf_find_vma(task, address, mem_vma_anon, &anon, 0);
	if (!anon)
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
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_mem_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct mem_call call = {};
	__u32 tid;

	if (!mem_enabled || (id != NR_mmap && id != NR_munmap && id != NR_brk && id != NR_mremap &&
			     id != NR_madvise))
		return 0;
	task = bpf_get_current_task_btf();
	if (!is_target_btf(task->tgid, task) || !mem_in_window())
		return 0;
	call.nr = id;
	call.args[0] = BPF_CORE_READ(regs, di);
	call.args[1] = BPF_CORE_READ(regs, si);
	call.args[2] = BPF_CORE_READ(regs, dx);
	call.args[3] = BPF_CORE_READ(regs, r10);
	if (id == NR_brk)
		call.old_brk = BPF_CORE_READ(task, mm, brk);
	tid = task->pid;
	if (bpf_map_update_elem(&mem_calls, &tid, &call, BPF_ANY))
		stat_inc(STAT_MEM_CALLS_FULL);
	return 0;
}

static __always_inline void mem_emit(__u32 type, __u64 nr, __u64 addr, __u64 len, __u64 addr2,
				     __u64 len2)
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
	e->ts = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->nr = nr;
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
	bpf_ringbuf_submit(e, 0);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_mem_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct mem_call *c;
	__u64 r = ret;

	if (!mem_enabled)
		return 0;
	c = bpf_map_lookup_elem(&mem_calls, &tid);
	if (!c)
		return 0;
	switch (c->nr) {
	case NR_brk:
		/* brk returns the new break: below the old, the top was trimmed. */
		if (r < c->old_brk)
			mem_emit(MEM_RELEASE, c->nr, r, c->old_brk - r, 0, 0);
		break;
	case NR_munmap:
		if (ret == 0)
			mem_emit(MEM_RELEASE, c->nr, c->args[0], c->args[1], 0, 0);
		break;
	case NR_madvise:
		if (ret == 0 && (c->args[2] == MADV_DONTNEED || c->args[2] == MADV_FREE ||
				 c->args[2] == MADV_REMOVE))
			mem_emit(MEM_RELEASE, c->nr, c->args[0], c->args[1], 0, 0);
		break;
	case NR_mmap:
		/* A fixed mapping replaces the pages that were there. */
		if (r < MAX_ERRNO_ADDR && (c->args[3] & MAP_FIXED))
			mem_emit(MEM_RELEASE, c->nr, r, c->args[1], 0, 0);
		break;
	case NR_mremap:
		if (r < MAX_ERRNO_ADDR)
			mem_emit(MEM_MOVE, c->nr, c->args[0], c->args[1], r, c->args[2]);
		break;
	}
	bpf_map_delete_elem(&mem_calls, &tid);
	return 0;
}

#include "memalloc.bpf.h"

#endif
