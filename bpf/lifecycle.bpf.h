/* SPDX-License-Identifier: GPL-2.0 */
/* Process lifecycle: exit, fork and exec of targets, for the target map,
 * the loader's events and the exited threads' CPU time.
 * Included by capture.bpf.c after the shared maps and helpers.
 */
#ifndef RAMPA_LIFECYCLE_BPF_H
#define RAMPA_LIFECYCLE_BPF_H

/* CPU time of the exited threads of each target process, ns: with the live
 * threads' at the end, what the sampled processes really used.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tgid */
	__type(value, __u64);
} exit_runtime SEC(".maps");

/* An exited thread's CPU time as its exit hook saw it, completed when its
 * task is freed: sum_exec_runtime lacks the time since the scheduler last
 * updated it (a thread that ran a millisecond and exited showed none of
 * it: 2800 short threads' 2.7 s read as 1.9 s).
 */
struct exit_tail {
	__u32 tgid;
	__u32 pad;
	__u64 rt;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct exit_tail);
} exit_tails SEC(".maps");

/* A thread is gone: its off-CPU entry and thread-state cache with it. The
 * last thread of a process takes the process out of the targets, so a new
 * process given the same PID is never taken for it, and the target map holds
 * only live processes however many come and go.
 */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_sched_process_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid), ptgid = BPF_CORE_READ(p, tgid);
	struct gil_thread *t;
	__u64 *rt, zero = 0;

	/* Only targets named by PID are compared with their CPU time: under
	 * -a the map would fill with every process that ever exited.
	 */
	if (filter_by_pid && is_target(ptgid, p)) {
		rt = bpf_map_lookup_elem(&exit_runtime, &ptgid);
		if (!rt && bpf_map_update_elem(&exit_runtime, &ptgid, &zero, BPF_NOEXIST) == -E2BIG)
			stat_inc(STAT_EXIT_RUNTIME_FULL);
		rt = rt ? rt : bpf_map_lookup_elem(&exit_runtime, &ptgid);
		if (rt) {
			struct exit_tail tail = { .tgid = ptgid,
						  .rt = BPF_CORE_READ(p, se.sum_exec_runtime) };

			__sync_fetch_and_add(rt, tail.rt);
			if (bpf_map_update_elem(&exit_tails, &tid, &tail, BPF_ANY) == -E2BIG)
				stat_inc(STAT_EXIT_RUNTIME_FULL);
		}
	}

	/* After the end, an interval left open is userspace's to close. */
	if (offcpu_kinds && !(end_ns && bpf_ktime_get_ns() > end_ns))
		bpf_map_delete_elem(&offcpu_start, &tid);
	bpf_map_delete_elem(&py_tstates, &tid);
	if (gil_enabled) {
		__u32 tgid = BPF_CORE_READ(p, tgid);

		/* Threads that never waited get a row too. */
		t = is_target(tgid, p) && bpf_map_lookup_elem(&py_procs, &tgid)
			? gil_thread_get(tid, tgid)
			: NULL;
		if (t)
			t->exit_ts = bpf_ktime_get_ns();
		bpf_map_delete_elem(&gil_waits, &tid);
	}
	/* Last: the GIL row above needs the process. signal->live is down
	 * before this tracepoint: 0 when the process's last thread exits (its
	 * main thread may have gone first).
	 */
	if (BPF_CORE_READ(p, signal, live.counter) == 0) {
		__u32 tgid = BPF_CORE_READ(p, tgid);
		bool known = bpf_map_lookup_elem(&seen, &tgid) != NULL;

		if (filter_by_pid && is_target(tgid, p) &&
		    bpf_map_delete_elem(&targets, &tgid) == 0)
			known = true;
		/* Not known to the loader: it will not read the name kept. */
		if (!known)
			bpf_map_delete_elem(&proc_names, &tgid);
		if (known) {
			bpf_map_delete_elem(&seen, &tgid);
			bpf_map_delete_elem(&py_procs, &tgid);
			emit_event(EVENT_EXIT, tgid, tid, 0);
		}
	}
	return 0;
}

/* The task is freed (an RCU callback after its last switch): its CPU time
 * is final now; what its exit hook did not see goes to its process.
 */
SEC("raw_tp/sched_process_free")
int BPF_PROG(on_sched_process_free, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct exit_tail *tail = bpf_map_lookup_elem(&exit_tails, &tid);
	__u64 *rt, final;

	if (!tail)
		return 0;
	final = BPF_CORE_READ(p, se.sum_exec_runtime);
	rt = bpf_map_lookup_elem(&exit_runtime, &tail->tgid);
	if (rt && final > tail->rt)
		__sync_fetch_and_add(rt, final - tail->rt);
	bpf_map_delete_elem(&exit_tails, &tid);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	const struct py_proc *pyp;
	__u64 start;

	if (gil_enabled && ptgid == ctgid && is_target(ptgid, parent)) {
		__u32 ctid = BPF_CORE_READ(child, pid);
		struct gil_thread *t = gil_thread_get(ctid, ctgid);

		if (t)
			t->start_ts = bpf_ktime_get_ns();
	}
	/* New threads share the tgid and are covered already. */
	if (!follow_forks || ptgid == ctgid || !is_target(ptgid, parent))
		return 0;
	/* The child leads its new process; set before this tracepoint. Under
	 * -a every process is a target already: the map is not used.
	 */
	start = start_ticks(child);
	if (filter_by_pid && bpf_map_update_elem(&targets, &ctgid, &start, BPF_ANY)) {
		stat_inc(STAT_TARGETS_FULL);
		return 0;
	}
	/* A forked child runs the parent's interpreter at the same addresses:
	 * walk it from its first sample, before userspace has looked at it.
	 */
	pyp = bpf_map_lookup_elem(&py_procs, &ptgid);
	if (pyp) {
		struct py_proc copy = *pyp;

		/* The parent's code_dealloc probe does not follow it. */
		copy.code_free_hooked = 0;

		bpf_map_update_elem(&py_procs, &ctgid, &copy, BPF_NOEXIST);
		/* Its main thread, too, exists from now on: not since the run
		 * began (only a child running an interpreter has a GIL row).
		 */
		if (gil_enabled) {
			struct gil_thread *t = gil_thread_get(ctgid, ctgid);

			if (t)
				t->start_ts = bpf_ktime_get_ns();
		}
	}
	/* Named now (the parent's name until an exec renames it): a child
	 * gone before the loader reads its event keeps its name.
	 */
	note_proc_name(ctgid, child, BPF_ANY);
	emit_event(EVENT_FORK, ctgid, ctgid, ptgid);
	return 0;
}

/* Raw tracepoints need no tracefs mount, which many hosts lack. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_sched_process_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!is_target(tgid, p))
		return 0;
	mem_on_exec(tgid);
	/* p leads its process now, under its new name. */
	note_proc_name(tgid, p, BPF_ANY);
	emit_event(EVENT_EXEC, tgid, BPF_CORE_READ(p, pid), 0);
	return 0;
}

#endif
