/* SPDX-License-Identifier: GPL-2.0 */
/* On-CPU samples: the per-CPU cpu-clock perf event program, a sample's
 * kernel, user and Python stacks counted in the active count map.
 * Included by capture.bpf.c after the shared maps and helpers.
 */
#ifndef RAMPA_ONCPU_BPF_H
#define RAMPA_ONCPU_BPF_H

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct sample_key key = {};
	__u32 gen = active_buf, buf = gen & 1;
	struct task_struct *task;
	__u8 *seen_state;
	__u64 tstate;
	long sid;

	if (!begin_ns || !is_target(tgid, bpf_get_current_task_btf()) ||
	    (end_ns && bpf_ktime_get_ns() > end_ns))
		return 0;
	stat_inc(STAT_SAMPLES);

	seen_state = bpf_map_lookup_elem(&seen, &tgid);
	if (!seen_state || *seen_state != SEEN_SAMPLED) {
		__u8 sampled = SEEN_SAMPLED;

		/* Named as the kernel knows it now, in case it is gone by the
		 * time the loader reads its event (an exec named it already).
		 */
		note_proc_name(tgid, BPF_CORE_READ(bpf_get_current_task_btf(), group_leader),
			       BPF_NOEXIST);

		/* The last thread tearing the process down: its exit hook ran
		 * (or will run) not knowing of this sample. Announced and
		 * gone at once; nothing is left in seen.
		 */
		if (BPF_CORE_READ(bpf_get_current_task_btf(), signal, live.counter) == 0) {
			bpf_map_delete_elem(&seen, &tgid);
			emit_event(EVENT_NEW_PROCESS, tgid, tid, 0);
			emit_event(EVENT_EXIT, tgid, tid, 0);
		} else {
			bpf_map_update_elem(&seen, &tgid, &sampled, BPF_ANY);
			emit_event(EVENT_NEW_PROCESS, tgid, tid, 0);
		}
	}

	key.pid = tgid;
	key.tid = tid;
	key.kern_stack_id = -1;
	key.user_stack_id = -1;

	/* Only samples taken in kernel mode have a kernel stack. The context
	 * allows whole-field loads only, hence the volatile 8-byte read.
	 */
	if ((*(volatile __u64 *)&ctx->regs.cs & 3) == 0) {
		sid = get_stackid(ctx, buf, 0);
		if (sid >= 0)
			key.kern_stack_id = sid;
		else
			count_stack_error(sid, false);
	}
	tstate = py_capture(&key, buf ? (void *)&py_stacks1 : (void *)&py_stacks0);
	if (gil_holders_only && !py_holds_gil(tgid, tstate)) {
		stat_inc(STAT_GIL_NOT_HELD);
		return 0;
	}

	/* Kernel threads have no user stack; don't count them as failures. */
	task = bpf_get_current_task_btf();
	if (task->flags & PF_KTHREAD) {
		/* nothing */
	} else if ((key.user_stack = unwind_user((struct pt_regs *)bpf_task_pt_regs(task), tgid,
						 buf, 0, &key.unwind_status)) ||
		   key.unwind_status != UNWIND_NONE) {
		/* Walked by the CFI unwinder (0 with a status: the stack was lost). */
	} else if ((key.py_status == PY_OK || key.py_status == PY_TRUNCATED) &&
		   py_leaf_only(tgid)) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

		key.user_ip = regs ? BPF_CORE_READ(regs, ip) : 0;
	} else {
		sid = get_stackid(ctx, buf, BPF_F_USER_STACK);
		if (sid >= 0)
			key.user_stack_id = sid;
		else
			count_stack_error(sid, true);
	}

	count_sample(buf, &key, 1);
	if (sample_times) {
		struct sample_time_event *e =
		    bpf_ringbuf_reserve(&sample_time_events, sizeof(*e), 0);

		if (!e) {
			stat_inc(STAT_SAMPLE_TIMES_LOST);
			return 0;
		}
		e->ts = bpf_ktime_get_ns();
		e->gen = gen;
		e->pad = 0;
		e->key = key;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

#endif
