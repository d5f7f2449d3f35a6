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

/* tid -> sample, entries made by the loader for the threads to sample. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DUMP_SAMPLE_THREADS);
	__type(key, __u32);
	__type(value, struct dump_sample);
} samples SEC(".maps");

static __always_inline void copy_regs(__u64 *out, struct pt_regs *regs)
{
	out[0] = BPF_CORE_READ(regs, ax);
	out[1] = BPF_CORE_READ(regs, dx);
	out[2] = BPF_CORE_READ(regs, cx);
	out[3] = BPF_CORE_READ(regs, bx);
	out[4] = BPF_CORE_READ(regs, si);
	out[5] = BPF_CORE_READ(regs, di);
	out[6] = BPF_CORE_READ(regs, bp);
	out[7] = BPF_CORE_READ(regs, sp);
	out[8] = BPF_CORE_READ(regs, r8);
	out[9] = BPF_CORE_READ(regs, r9);
	out[10] = BPF_CORE_READ(regs, r10);
	out[11] = BPF_CORE_READ(regs, r11);
	out[12] = BPF_CORE_READ(regs, r12);
	out[13] = BPF_CORE_READ(regs, r13);
	out[14] = BPF_CORE_READ(regs, r14);
	out[15] = BPF_CORE_READ(regs, r15);
	out[16] = BPF_CORE_READ(regs, ip);
}

/* The next tick of a thread on a CPU: its user registers (those
 * interrupted, or those saved at kernel entry when the tick hit the
 * kernel), its kernel stack, and the top of its user stack (the largest of
 * 32, 16, 8 or 4 KiB that can be read: a stack may end sooner).
 */
SEC("perf_event")
int dump_on_cpu(struct bpf_perf_event_data *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct dump_sample *s = bpf_map_lookup_elem(&samples, &tid);
	struct pt_regs *regs = (struct pt_regs *)&ctx->regs;
	__u64 sp;

	if (!s || s->done)
		return 0;
	if ((BPF_CORE_READ(regs, cs) & 3) != 3)
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	copy_regs(s->regs, regs);
	s->user = 1;
	s->kstack_bytes = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	sp = s->regs[DUMP_REG_SP];
	s->stack_base = sp;
	s->stack_len = 0;
	if (!bpf_probe_read_user(s->stack, DUMP_STACK_COPY, (void *)sp))
		s->stack_len = DUMP_STACK_COPY;
	else if (!bpf_probe_read_user(s->stack, DUMP_STACK_COPY / 2, (void *)sp))
		s->stack_len = DUMP_STACK_COPY / 2;
	else if (!bpf_probe_read_user(s->stack, DUMP_STACK_COPY / 4, (void *)sp))
		s->stack_len = DUMP_STACK_COPY / 4;
	else if (!bpf_probe_read_user(s->stack, DUMP_STACK_COPY / 8, (void *)sp))
		s->stack_len = DUMP_STACK_COPY / 8;
	s->done = 1;
	return 0;
}

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
		copy_regs(d->regs, regs);
		d->syscall = (__s64)BPF_CORE_READ(regs, orig_ax);
	}
	n = bpf_get_task_stack(task, d->kstack, sizeof(d->kstack), 0);
	d->kstack_bytes = n;
	bpf_seq_write(seq, d, sizeof(*d));
	return 0;
}
