/* SPDX-License-Identifier: GPL-2.0 */
/* GIL waits (gil-wait): futex waits on the GIL's words seen at sys_enter and
 * sys_exit, with the holder behind each.
 * Included by capture.bpf.c after the shared maps and helpers.
 */
#ifndef RAMPA_GIL_BPF_H
#define RAMPA_GIL_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct gil_wait);
} gil_waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tid */
	__type(value, struct gil_thread);
} gil_threads SEC(".maps");

#define NR_futex	  202
#define FUTEX_CMD_MASK	  0x7f /* without PRIVATE and CLOCK_REALTIME */
#define FUTEX_WAIT	  0
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE	  1

static __always_inline struct gil_thread *gil_thread_get(__u32 tid, __u32 pid)
{
	struct gil_thread *t = bpf_map_lookup_elem(&gil_threads, &tid), fresh = { .pid = pid };

	if (t)
		return t;
	if (bpf_map_update_elem(&gil_threads, &tid, &fresh, BPF_NOEXIST) == -E2BIG)
		stat_inc(STAT_GIL_MAP_FULL);
	return bpf_map_lookup_elem(&gil_threads, &tid);
}

/* take_gil() sleeps in pthread_cond_timedwait on gil->cond (mutex gil->mutex):
 * a futex wait on those words is waiting for the GIL. Seen at the syscall,
 * so stripped interpreters need no symbols.
 */
SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	__u64 id_tgid, uaddr, op, now, cpu;
	struct task_struct *task;
	struct gil_wait *w, fresh = {};
	const struct py_proc *p;
	struct gil_thread *t;
	__u32 tgid, tid;
	bool gil_word;

	if (!gil_enabled)
		return 0;
	id_tgid = bpf_get_current_pid_tgid();
	tgid = id_tgid >> 32;
	tid = (__u32)id_tgid;
	p = bpf_map_lookup_elem(&py_procs, &tgid);
	if (!p || !p->gil)
		return 0;
	w = bpf_map_lookup_elem(&gil_waits, &tid);
	if (id != NR_futex) {
		/* Any other syscall (sleep, I/O): a pending drop was not a switch,
		 * and the next GIL wait is another take_gil().
		 */
		if (w) {
			w->drop_ts = 0;
			w->boundary = 1;
		}
		return 0;
	}
	uaddr = BPF_CORE_READ(regs, di);
	op = BPF_CORE_READ(regs, si) & FUTEX_CMD_MASK;
	gil_word = uaddr >= p->gil + p->gil_cond && uaddr < p->gil + p->gil_switch_cond;
	now = bpf_ktime_get_ns();
	/* CPU time so far, with the run in progress: sum_exec_runtime alone
	 * lags until the next tick. exec_start is on the scheduler's clock; the
	 * same formula at both ends of a gap cancels any offset to ours.
	 */
	task = bpf_get_current_task_btf();
	cpu = task->se.sum_exec_runtime + now - task->se.exec_start;
	if (!w) {
		if (!gil_word)
			return 0;
		if (bpf_map_update_elem(&gil_waits, &tid, &fresh, BPF_NOEXIST) == -E2BIG)
			stat_inc(STAT_GIL_MAP_FULL);
		w = bpf_map_lookup_elem(&gil_waits, &tid);
		if (!w)
			return 0;
	}
	if (gil_word && op == FUTEX_WAKE && uaddr < p->gil + p->gil_mutex) {
		/* drop_gil() signals the cond as it releases the GIL: it held it. */
		w->drop_ts = now;
		w->drop_cpu = cpu;
		w->boundary = 1;
		return 0;
	}
	if (!gil_word || (op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET)) {
		/* Another lock: the thread ran since its last GIL wait. */
		if (!gil_word)
			w->boundary = 1;
		return 0;
	}
	t = gil_thread_get(tid, tgid);
	/* One take_gil() waits in a loop of timed waits with nothing but its
	 * own mutex in between; a drop or any other syscall since the last
	 * wait means the GIL was taken and this is a new take_gil().
	 */
	if (!w->last_exit || now - w->last_exit > GIL_EPISODE_GAP_NS || w->boundary) {
		/* A new take_gil(): where the waiter is, and who holds the GIL where. */
		struct sample_key *k = &w->key;
		__u64 holder = 0;

		__builtin_memset(k, 0, sizeof(*k));
		k->pid = tgid;
		k->tid = tid;
		k->kind = KIND_GIL_WAIT;
		k->user_stack_id = -1;
		k->kern_stack_id = -1;
		py_capture(k, &offcpu_py_stacks);
		if (!bpf_probe_read_user(&holder, sizeof(holder),
					 (void *)(p->gil + p->gil_last_holder)) &&
		    holder) {
			__u32 hstatus = 0;

			k->holder = holder;
			py_walk_tstate(p, tgid, holder, &offcpu_py_stacks, &k->holder_py, &hstatus);
		}
		/* Waits and time are the window's only (begin_ns: 0 until it
		 * opens; the loader reads processes before, with the hooks on).
		 */
		w->before_window = !begin_ns;
		if (t) {
			t->waits += !w->before_window;
			t->cur_ns = 0;
		}
		/* Dropped the GIL at a forced switch and waited for a CPU since:
		 * the time it was not running belongs to this wait.
		 */
		if (w->drop_ts && now - w->drop_ts < GIL_DROP_WINDOW_NS) {
			__s64 ran = (__s64)(cpu - w->drop_cpu);
			__u64 gap = now - w->drop_ts;

			if (ran > 0)
				gap = (__u64)ran < gap ? gap - ran : 0;
			if (!begin_ns)
				gap = 0;
			else if (now - gap < begin_ns)
				gap = now > begin_ns ? now - begin_ns : 0;
			if (gap) {
				count_sample(active_buf & 1, k, gap);
				emit_short(tgid, tid, KIND_GIL_WAIT, now - gap, now,
					   SHORT_WAIT_PIECE);
				if (t) {
					t->wait_ns += gap;
					t->cur_ns = gap;
				}
			}
		}
	} else {
		/* Between two timed waits of one take_gil() the thread still waits. */
		__u64 from = w->last_exit < begin_ns ? begin_ns : w->last_exit;
		__u64 gap = begin_ns && now > from ? now - from : 0;

		if (gap) {
			count_sample(active_buf & 1, &w->key, gap);
			emit_short(tgid, tid, KIND_GIL_WAIT, from, now, SHORT_WAIT_PIECE);
		}
		if (t) {
			t->wait_ns += gap;
			t->cur_ns += gap;
		}
	}
	w->drop_ts = 0;
	w->boundary = 0;
	w->ts = now;
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct gil_wait *w;
	struct gil_thread *t;
	__u64 now, delta, from;

	if (!gil_enabled)
		return 0;
	w = bpf_map_lookup_elem(&gil_waits, &tid);
	if (!w || !w->ts)
		return 0;
	now = bpf_ktime_get_ns();
	from = w->ts < begin_ns ? begin_ns : w->ts;
	delta = begin_ns && now > from ? now - from : 0;
	w->last_exit = now;
	if (delta) {
		count_sample(active_buf & 1, &w->key, delta);
		emit_interval(from, now, &w->key, false);
	}
	w->ts = 0;
	t = bpf_map_lookup_elem(&gil_threads, &tid);
	/* A take_gil() that began before the window and waits into it. */
	if (t && w->before_window && delta) {
		t->waits++;
		w->before_window = 0;
	}
	if (t) {
		t->wait_ns += delta;
		t->cur_ns += delta;
		if (t->cur_ns > t->max_ns)
			t->max_ns = t->cur_ns;
	}
	return 0;
}

#endif
