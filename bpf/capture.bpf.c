// SPDX-License-Identifier: GPL-2.0
/* On-CPU sampling: a cpu-clock perf event per CPU runs on_cpu_sample, which
 * keeps only target threads and counts (pid, tid, user stack, kernel stack)
 * in kernel maps. The loader drains them; nothing per sample reaches userspace.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "capture.h"

/* Not in vmlinux.h: macros vanish from BTF. */
#define EEXIST	   17
#define ENOMEM	   12
#define E2BIG	   7
#define PF_KTHREAD 0x00200000
#define PF_EXITING 0x00000004

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile bool filter_by_pid = true;     /* false: whole system */
const volatile bool follow_forks = false;     /* add children of targets */
const volatile __u32 offcpu_kinds = 0;	      /* 1 << KIND_OFFCPU_*: what to measure */
const volatile bool gil_enabled = false;      /* measure GIL waits */
const volatile bool gil_holders_only = false; /* keep samples of GIL holders only */

/* Written by the loader at run time through the mmaped .bss: which buffer set
 * the programs fill.
 */
volatile __u32 active_buf;
/* Set by the loader when the run's window closes (CLOCK_MONOTONIC ns): what
 * happens after it, before the last drain, is not the run's.
 */
volatile __u64 end_ns;
/* Set by the loader once everything is attached: the run's window opens
 * then. Until it is set, nothing is counted; intervals begun during attach
 * count from it.
 */
volatile __u64 begin_ns;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_TARGET_MAP_ENTRIES);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* start time in clock ticks (RAMPA_TICK_NS); 0: unchecked */
} targets SEC(".maps");

/* Processes the loader knows of, so it hears of their exit: SEEN_SAMPLED
 * once sampled (EVENT_NEW_PROCESS sent), SEEN_ANNOUNCED when only a fork or
 * exec event named them.
 */
#define SEEN_SAMPLED   1
#define SEEN_ANNOUNCED 2
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RAMPA_SEEN_MAP_ENTRIES);
	__type(key, __u32);
	__type(value, __u8);
} seen SEC(".maps");

#define STACK_MAP(name)                                                    \
	struct {                                                           \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);                    \
		__uint(max_entries, RAMPA_STACK_MAP_ENTRIES);              \
		__uint(key_size, sizeof(__u32));                           \
		__uint(value_size, RAMPA_MAX_STACK_DEPTH * sizeof(__u64)); \
	} name SEC(".maps")

#define COUNT_MAP(name)                                       \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_HASH);              \
		__uint(max_entries, RAMPA_COUNT_MAP_ENTRIES); \
		__type(key, struct sample_key);               \
		__type(value, __u64);                         \
	} name SEC(".maps")

STACK_MAP(stacks0);
STACK_MAP(stacks1);
COUNT_MAP(counts0);
COUNT_MAP(counts1);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RAMPA_EVENT_RING_BYTES);
} events SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

#include "pystack.bpf.h"

static __always_inline __u64 start_ticks(struct task_struct *leader)
{
	return BPF_CORE_READ(leader, start_boottime) / RAMPA_TICK_NS;
}

/* A target is a process, not a number: its tgid and its start time, as
 * /proc/PID/stat gives it. A new process that was given a target's PID is
 * not taken for it, even before the exit hook has removed the entry.
 */
static __always_inline bool is_target(__u32 tgid, struct task_struct *task)
{
	__u64 *start;

	if (!filter_by_pid)
		return tgid != 0;
	start = bpf_map_lookup_elem(&targets, &tgid);
	if (!start)
		return false;
	return !*start || start_ticks(BPF_CORE_READ(task, group_leader)) == *start;
}

/* is_target() for a task the verifier knows by BTF (tp_btf arguments, the
 * current task): plain loads, which cost a few ns against a few tens for
 * each bpf_probe_read_kernel() of BPF_CORE_READ. The scheduler hook runs on
 * every switch of the machine.
 */
static __always_inline bool is_target_btf(__u32 tgid, struct task_struct *task)
{
	__u64 *start;

	if (!filter_by_pid)
		return tgid != 0;
	start = bpf_map_lookup_elem(&targets, &tgid);
	if (!start)
		return false;
	return !*start || task->group_leader->start_boottime / RAMPA_TICK_NS == *start;
}

static __always_inline void emit_event(__u32 type, __u32 pid, __u32 tid, __u32 ppid)
{
	struct capture_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u8 announced = SEEN_ANNOUNCED;

	/* Whatever the loader keeps for a process it heard of goes at its exit. */
	if (type == EVENT_FORK || type == EVENT_EXEC)
		bpf_map_update_elem(&seen, &pid, &announced, BPF_NOEXIST);

	if (!e) {
		stat_inc(STAT_EVENTS_LOST);
		return;
	}
	e->type = type;
	e->pid = pid;
	e->tid = tid;
	e->ppid = ppid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
}

#include "unwind.bpf.h"

/* Stack ids below zero are errno values; sort them into the loss counters. */
static __always_inline void count_stack_error(long err, bool user)
{
	if (err == -EEXIST)
		stat_inc(user ? STAT_USTACK_COLLISION : STAT_KSTACK_COLLISION);
	else if (err == -ENOMEM)
		stat_inc(STAT_STACK_MAP_FULL);
	else
		stat_inc(user ? STAT_USTACK_FAILED : STAT_KSTACK_FAILED);
}

static __always_inline long get_stackid(void *ctx, __u32 buf, __u64 flags)
{
	if (buf)
		return bpf_get_stackid(ctx, &stacks1, flags);
	return bpf_get_stackid(ctx, &stacks0, flags);
}

static __always_inline void count_sample(__u32 buf, struct sample_key *key, __u64 weight)
{
	void *map = buf ? (void *)&counts1 : (void *)&counts0;
	__u64 *val = bpf_map_lookup_elem(map, key);
	long err;

	if (val) {
		__sync_fetch_and_add(val, weight);
		return;
	}
	err = bpf_map_update_elem(map, key, &weight, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* Another CPU inserted the same key meanwhile. */
		val = bpf_map_lookup_elem(map, key);
		if (val)
			__sync_fetch_and_add(val, weight);
	} else if (err) {
		stat_inc(STAT_COUNT_MAP_FULL);
	}
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct sample_key key = {};
	__u32 buf = active_buf & 1;
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
						 buf, &key.unwind_status)) ||
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
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_OFFCPU_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct offcpu_start);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, RAMPA_OFFCPU_STACK_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RAMPA_MAX_STACK_DEPTH * sizeof(__u64));
} offcpu_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RAMPA_OFFCPU_SITE_ENTRIES);
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

		count_sample(active_buf & 1, &key, now - from - ran);
	}
	old->ts = 0;
}

/* Scheduler switches: prev leaves the CPU (take its stacks now, while it is
 * current), next comes back (add the time it was away). Every switch of the
 * machine runs this, so non-targets leave after one map lookup at most.
 * A BTF tracepoint (like a raw one, it needs no tracefs): prev, next and
 * their registers are read with plain loads, not helper calls.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
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
			py_capture(&s.key, &offcpu_py_stacks);
			if (s.key.py_status == PY_MAP_FULL)
				stat_inc(STAT_OFFCPU_STACK_FULL);
			s.key.kern_stack_id = -1;
			s.key.user_stack_id = -1;
			s.key.user_stack = unwind_user(regs, ptgid, 2, &s.key.unwind_status);
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

		if (!begin_ns || !offcpu_kinds)
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

			count_sample(active_buf & 1, &key, now - begin_ns);
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

				count_sample(active_buf & 1, &key, now - from - ran);
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

		count_sample(active_buf & 1, &key, now - st->ts);
	}
	st->ts = 0;
	st->in_ts = now;
	st->rt = next->se.sum_exec_runtime;
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_GIL_THREADS);
	__type(key, __u32); /* tid */
	__type(value, struct gil_wait);
} gil_waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_GIL_THREADS);
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
		if (t) {
			t->waits++;
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
			if (gap) {
				count_sample(active_buf & 1, k, gap);
				if (t) {
					t->wait_ns += gap;
					t->cur_ns = gap;
				}
			}
		}
	} else {
		/* Between two timed waits of one take_gil() the thread still waits. */
		__u64 gap = now - w->last_exit;

		count_sample(active_buf & 1, &w->key, gap);
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
	__u64 now, delta;

	if (!gil_enabled)
		return 0;
	w = bpf_map_lookup_elem(&gil_waits, &tid);
	if (!w || !w->ts)
		return 0;
	now = bpf_ktime_get_ns();
	delta = now > w->ts ? now - w->ts : 0;
	w->ts = 0;
	w->last_exit = now;
	count_sample(active_buf & 1, &w->key, delta);
	t = bpf_map_lookup_elem(&gil_threads, &tid);
	if (t) {
		t->wait_ns += delta;
		t->cur_ns += delta;
		if (t->cur_ns > t->max_ns)
			t->max_ns = t->cur_ns;
	}
	return 0;
}

/* CPU time of the exited threads of each target process, ns: with the live
 * threads' at the end, what the sampled processes really used.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RAMPA_EXIT_RUNTIME_ENTRIES);
	__type(key, __u32); /* tgid */
	__type(value, __u64);
} exit_runtime SEC(".maps");

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
		if (rt)
			__sync_fetch_and_add(rt, BPF_CORE_READ(p, se.sum_exec_runtime));
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
		if (known) {
			bpf_map_delete_elem(&seen, &tgid);
			bpf_map_delete_elem(&py_procs, &tgid);
			emit_event(EVENT_EXIT, tgid, tid, 0);
		}
	}
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
	emit_event(EVENT_EXEC, tgid, BPF_CORE_READ(p, pid), 0);
	return 0;
}

/* rampa-bpf mem's programs share the targets, the walker and the stats. */
#include "mem.bpf.h"
