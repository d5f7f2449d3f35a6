// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf dump: one pass of a task iterator over the threads of one
 * process (the loader sets the iterator's pid). Each thread gives what only
 * the kernel has without stopping it: its scheduler state, whether it is on a
 * CPU, its context-switch count (the loader reads twice and compares, to
 * tell a thread that ran while it was read), its user registers saved at
 * kernel entry (bpf_task_pt_regs) and its kernel stack. Userspace unwinds
 * the user stack from those registers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dump.h"

#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dump_task);
} scratch SEC(".maps");

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct dump_task *d;
	struct pt_regs *regs;
	__u32 zero = 0;
	long n;

	if (!task)
		return 0;
	d = bpf_map_lookup_elem(&scratch, &zero);
	if (!d)
		return 0;
	d->pid = task->tgid;
	d->tid = task->pid;
	d->state = BPF_CORE_READ(task, __state);
	d->on_cpu = BPF_CORE_READ(task, on_cpu);
	d->flags = task->flags;
	d->switches = task->nvcsw + task->nivcsw;
	d->runtime_ns = task->se.sum_exec_runtime;
	d->user = 0;
	d->syscall = -1;
	__builtin_memset(d->regs, 0, sizeof(d->regs));
	if (!(d->flags & PF_KTHREAD)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		d->user = 1;
		d->regs[0] = BPF_CORE_READ(regs, ax);
		d->regs[1] = BPF_CORE_READ(regs, dx);
		d->regs[2] = BPF_CORE_READ(regs, cx);
		d->regs[3] = BPF_CORE_READ(regs, bx);
		d->regs[4] = BPF_CORE_READ(regs, si);
		d->regs[5] = BPF_CORE_READ(regs, di);
		d->regs[6] = BPF_CORE_READ(regs, bp);
		d->regs[7] = BPF_CORE_READ(regs, sp);
		d->regs[8] = BPF_CORE_READ(regs, r8);
		d->regs[9] = BPF_CORE_READ(regs, r9);
		d->regs[10] = BPF_CORE_READ(regs, r10);
		d->regs[11] = BPF_CORE_READ(regs, r11);
		d->regs[12] = BPF_CORE_READ(regs, r12);
		d->regs[13] = BPF_CORE_READ(regs, r13);
		d->regs[14] = BPF_CORE_READ(regs, r14);
		d->regs[15] = BPF_CORE_READ(regs, r15);
		d->regs[16] = BPF_CORE_READ(regs, ip);
		d->syscall = (__s64)BPF_CORE_READ(regs, orig_ax);
	}
	n = bpf_get_task_stack(task, d->kstack, sizeof(d->kstack), 0);
	d->kstack_bytes = n;
	bpf_seq_write(seq, d, sizeof(*d));
	return 0;
}
