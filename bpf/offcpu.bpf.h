/* SPDX-License-Identifier: GPL-2.0 */
/* Off-CPU time: the scheduler hook (wall and offcpu modes), the interval
 * each thread is away, its stacks taken as it leaves.
 * Included by capture.bpf.c after the shared maps and helpers.
 */
#ifndef RAMPA_OFFCPU_BPF_H
#define RAMPA_OFFCPU_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_start);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RAMPA_MAX_STACK_DEPTH * sizeof(__u64));
} offcpu_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct offcpu_site);
	__type(value, struct offcpu_site_stacks);
} offcpu_sites SEC(".maps");

/* A thread leaves a CPU while its entry is still open: the kernel did not
 * report its return. It was away from old->ts until it came back, then ran
 * for the CPU time it used since: the interval is the wall time minus that.
 */
static __always_inline void close_unreported(struct offcpu_start *old, __u64 now, __u64 rt)
{
	__u64 from = old->ts < begin_ns ? begin_ns : old->ts, ran = rt - old->rt;

	stat_inc(STAT_OFFCPU_IN_UNREPORTED);
	if (begin_ns && now > from && now - from > ran) {
		struct sample_key key = old->key;

		count_sample_at(active_buf & 1, &key, now - from - ran, now);
	}
	old->ts = 0;
}

/* Scheduler switches: prev leaves the CPU (take its stacks now, while it is
 * current), next comes back (add the time it was away). Every switch of the
 * machine runs this, so non-targets leave after one map lookup at most.
 * A BTF tracepoint (like a raw one, it needs no tracefs): prev, next and
 * their registers are read with plain loads, not helper calls.
 */
/* sched_switch's arguments as this kernel declares them, checked in its BTF
 * at load time (a CO-RE type match) rather than assumed: prev_state came as
 * a fourth argument in Linux 5.18; before, the state is read from prev
 * (__state from 5.14, state before). The branches not taken are never
 * verified: their relocations resolve to constants.
 */
typedef void (*btf_trace_sched_switch___state)(void *, bool, struct task_struct *,
					       struct task_struct *, unsigned int);

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int sched_switch_prev_state(__u64 *ctx, struct task_struct *prev)
{
	if (bpf_core_type_matches(btf_trace_sched_switch___state))
		return (unsigned int)ctx[3];
	if (bpf_core_field_exists(prev->__state))
		return BPF_CORE_READ(prev, __state);
	return (unsigned int)BPF_CORE_READ((struct task_struct___pre514 *)prev, state);
}

SEC("tp_btf/sched_switch")
int on_sched_switch(__u64 *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx[1];
	struct task_struct *next = (struct task_struct *)ctx[2];
	unsigned int prev_state = sched_switch_prev_state(ctx, prev);
	__u64 now = bpf_ktime_get_ns();
	__u32 ptgid = prev->tgid, ntid = next->pid;
	struct task_struct *cur = bpf_get_current_task_btf(); /* == prev */
	struct offcpu_start *st;

	/* After the window's end the open intervals stay as they are: userspace
	 * closes them at the end (capture__offcpu_flush). Counted here, they
	 * would go to a buffer already drained.
	 */
	if (end_ns && now > end_ns)
		return 0;
	/* An exiting thread's last switch opens no interval. */
	if (is_target_btf(ptgid, prev) && !(cur->flags & (PF_KTHREAD | PF_EXITING))) {
		__u32 kind = prev_state & 0xff ? KIND_OFFCPU_BLOCKED : KIND_OFFCPU_RUNNABLE;

		if (offcpu_kinds & (1u << kind)) {
			struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
			__u32 ptid = cur->pid;
			struct offcpu_start *old = bpf_map_lookup_elem(&offcpu_start, &ptid);
			struct offcpu_start s = { .ts = now };
			struct offcpu_site site = { .tid = ptid, .kind = kind };
			struct offcpu_site_stacks *known = NULL, fresh;
			long sid;

			stat_inc(STAT_OFFCPU_SWITCHES);
			s.key.pid = ptgid;
			s.key.tid = ptid;
			s.key.kind = kind;
			py_capture_switch(&s.key);
			if (s.key.py_status == PY_MAP_FULL)
				stat_inc(STAT_OFFCPU_STACK_FULL);
			s.key.kern_stack_id = -1;
			s.key.user_stack_id = -1;
			s.key.unwind_status = UNWIND_NONE;
			if (regs)
				s.key.user_stack =
				    unwind_user_regs(regs->ip, regs->sp, regs->bp, ptgid, 2, 1,
						     &s.key.unwind_status);
			if (s.key.user_stack || s.key.unwind_status != UNWIND_NONE) {
				/* Walked by the CFI unwinder. */
			} else if ((s.key.py_status == PY_OK || s.key.py_status == PY_TRUNCATED) &&
				   py_leaf_only(ptgid)) {
				s.key.user_ip = regs ? regs->ip : 0;
			} else {
				sid = bpf_get_stackid(ctx, &offcpu_stacks, BPF_F_USER_STACK);
				if (sid >= 0)
					s.key.user_stack_id = sid;
				else if (sid == -ENOMEM)
					stat_inc(STAT_OFFCPU_STACK_FULL);
			}
			if (regs) {
				site.ip = regs->ip;
				site.sp = regs->sp;
				site.nr = regs->orig_ax;
				site.arg0 = regs->di;
				site.user_stack_id = s.key.user_stack ? (__s64)s.key.user_stack
								      : s.key.user_stack_id;
				known = bpf_map_lookup_elem(&offcpu_sites, &site);
			}
			if (known) {
				s.key.kern_stack_id = known->kern_stack_id;
			} else {
				sid = bpf_get_stackid(ctx, &offcpu_stacks, 0);
				if (sid >= 0)
					s.key.kern_stack_id = sid;
				else if (sid == -ENOMEM)
					stat_inc(STAT_OFFCPU_STACK_FULL);
				if (regs) {
					fresh.kern_stack_id = s.key.kern_stack_id;
					fresh.pad = 0;
					bpf_map_update_elem(&offcpu_sites, &site, &fresh, BPF_ANY);
				}
			}
			s.rt = cur->se.sum_exec_runtime;
			if (old && old->ts)
				close_unreported(old, now, s.rt);
			if (old)
				*old = s;
			else if (bpf_map_update_elem(&offcpu_start, &ptid, &s, BPF_ANY))
				stat_inc(STAT_OFFCPU_MAP_FULL);
		} else if (offcpu_kinds) {
			/* Not measured (preempted, in offcpu mode), but seen leaving a
			 * CPU: an entry at rest says so to the switch-in below.
			 */
			__u32 ptid = cur->pid;
			struct offcpu_start rest = {};
			struct offcpu_start *old = bpf_map_lookup_elem(&offcpu_start, &ptid);

			if (!old) {
				bpf_map_update_elem(&offcpu_start, &ptid, &rest, BPF_NOEXIST);
			} else {
				if (old->ts)
					close_unreported(old, now, cur->se.sum_exec_runtime);
				old->in_ts = 0; /* away, not measured: nothing to check */
			}
		}
	}

	if (!is_target_btf(next->tgid, next))
		return 0;
	st = bpf_map_lookup_elem(&offcpu_start, &ntid);
	if (!st) {
		/* Never seen leaving a CPU since the hook was attached: off-CPU
		 * since before, unless created since. Userspace seeds such threads
		 * with the stack it takes; this one woke first. Its time counts
		 * from the window's start, under a marker for the stack nobody
		 * took (runnable or asleep: not known, counted as blocked). A
		 * thread created since is followed from here.
		 */
		struct offcpu_start rest = { .in_ts = now, .rt = next->se.sum_exec_runtime };

		/* An exiting thread's entry went at its exit hook; a switch
		 * back in on its way out is not a sleeper's return (counted
		 * here, each such thread gained the window's time up to then).
		 */
		if (!begin_ns || !offcpu_kinds || (next->flags & PF_EXITING))
			return 0;
		if ((offcpu_kinds & (1u << KIND_OFFCPU_BLOCKED)) && next->start_time < begin_ns &&
		    now > begin_ns) {
			struct sample_key key = {
				.pid = next->tgid,
				.tid = ntid,
				.user_stack_id = -1,
				.kern_stack_id = -1,
				.kind = KIND_OFFCPU_BLOCKED,
				.snap_id = RAMPA_SNAP_UNTAKEN,
			};

			count_sample_at(active_buf & 1, &key, now - begin_ns, now);
			stat_inc(STAT_OFFCPU_UNTAKEN);
		}
		/* From now on, time away that the kernel does not report is
		 * found (see the closed-entry case below).
		 */
		bpf_map_update_elem(&offcpu_start, &ntid, &rest, BPF_NOEXIST);
		return 0;
	}
	if (!st->ts) {
		/* Back on a CPU without a reported switch-out: away for the wall
		 * time since it came back minus the CPU time it used since.
		 */
		__u64 rt = next->se.sum_exec_runtime, from = st->in_ts;

		if (from && begin_ns) {
			__u64 ran = rt - st->rt;

			if (from < begin_ns)
				from = begin_ns;
			if (now > from && now - from > ran + RAMPA_UNREPORTED_MIN_NS) {
				struct sample_key key = {
					.pid = next->tgid,
					.tid = ntid,
					.user_stack_id = -1,
					.kern_stack_id = -1,
					.kind = KIND_OFFCPU_BLOCKED,
					.snap_id = RAMPA_SNAP_UNREPORTED,
				};

				count_sample_at(active_buf & 1, &key, now - from - ran, now);
				stat_inc(STAT_OFFCPU_OUT_UNREPORTED);
			}
		}
		st->in_ts = now;
		st->rt = rt;
		return 0;
	}
	if (!begin_ns) {
		st->ts = 0;
		return 0;
	}
	if (st->ts < begin_ns)
		st->ts = begin_ns;
	if (now > st->ts) {
		struct sample_key key = st->key;

		if (!emit_interval(st->ts, now, &key, true))
			count_sample_at(active_buf & 1, &key, now - st->ts, now);
	}
	st->ts = 0;
	st->in_ts = now;
	st->rt = next->se.sum_exec_runtime;
	return 0;
}

#endif
