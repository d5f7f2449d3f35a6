// SPDX-License-Identifier: GPL-2.0
/* The capture programs: what every event family shares (the loader's
 * settings, the target map, stats, the event ring, the count maps and the
 * stack walkers), then the families in files of their own: on-CPU samples
 * (oncpu.bpf.h), off-CPU time (offcpu.bpf.h), GIL waits (gil.bpf.h),
 * process lifecycle (lifecycle.bpf.h), memory (mem.bpf.h). Samples are
 * counted in kernel maps the loader drains; nothing per sample reaches
 * userspace.
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
const volatile __u64 interval_min_ns = 0;     /* intervals sent from this long; 0: none */
/* The timeline's slice (ns; 0: none), from begin_ns: an off-CPU interval
 * across a slice's end is sent whole for userspace to split.
 */
const volatile __u64 slice_ns = 0;
/* The timeline's slice (ns; 0: none): every count is stamped in the kernel
 * with the slice it happened in, so a drain that comes late (a loaded
 * machine, tables being built) cannot move it to a later slice.
 */
const volatile __u64 timeline_ns = 0;
const volatile bool sample_times = false;   /* send each on-CPU sample's instant */
const volatile bool short_waits_on = false; /* send waits under interval_min_ns too */
/* An idle loader sleeps (the agent): only the events it must act on at
 * once wake it (a process's first sample, the exec of a sampled process,
 * an unwind miss); forks, exits and other execs wait for its next wake-up
 * or a quarter-full ring. false: every event wakes it (libbpf's default).
 */
const volatile bool lazy_wakeup = false;

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
/* Where the timeline's slice 0 begins (begin_ns or before; set with it):
 * sessions started one after another share one grid of slices.
 */
volatile __u64 timeline_origin_ns;
/* rampa-bpf mem: CMD, forked and held until it execs (its allocator probed
 * already): what it does before is rampa-bpf's own code, not counted. 0:
 * none; cleared by its exec.
 */
volatile __u32 mem_hold_tgid;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
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
	__type(key, __u32);
	__type(value, __u8);
} seen SEC(".maps");

/* Each process's name as the kernel knew it (comm at its exec, or its main
 * thread's at its first sample), kept until the loader has named it: a
 * process gone before its first event is handled is named from here, not
 * from /proc. The loader deletes an entry once it let go of the process.
 */
struct proc_name_val {
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* tgid */
	__type(value, struct proc_name_val);
} proc_names SEC(".maps");

#define STACK_MAP(name)                                                    \
	struct {                                                           \
		__uint(type, BPF_MAP_TYPE_STACK_TRACE);                    \
		__uint(key_size, sizeof(__u32));                           \
		__uint(value_size, RAMPA_MAX_STACK_DEPTH * sizeof(__u64)); \
	} name SEC(".maps")

#define COUNT_MAP(name)                          \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__type(key, struct sample_key);  \
		__type(value, __u64);            \
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
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} intervals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} sample_time_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
} short_waits SEC(".maps");

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

static __always_inline void note_proc_name(__u32 tgid, struct task_struct *leader, __u64 flags)
{
	struct proc_name_val v = {};
	long err;

	if (bpf_probe_read_kernel_str(v.comm, sizeof(v.comm), leader->comm) < 0)
		return;
	err = bpf_map_update_elem(&proc_names, &tgid, &v, flags);
	if (err && err != -EEXIST)
		stat_inc(STAT_PROC_NAMES_FULL);
}

/* The ring's wake-up for an event (lazy_wakeup). A record submitted with
 * no flag wakes the reader only when it had read all before it: after a
 * lazy one it would not, so each is forced or not, explicitly.
 */
static __always_inline __u64 event_wakeup(__u32 type, __u32 pid)
{
	__u8 *state;

	if (!lazy_wakeup)
		return 0;
	if (type == EVENT_NEW_PROCESS || type == EVENT_UNWIND_MISS)
		return BPF_RB_FORCE_WAKEUP;
	/* A sampled process's new image: its old samples are drained against
	 * the old maps before more of the new one are counted.
	 */
	state = type == EVENT_EXEC ? bpf_map_lookup_elem(&seen, &pid) : NULL;
	if (state && *state == SEEN_SAMPLED)
		return BPF_RB_FORCE_WAKEUP;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
		       bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
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
	bpf_ringbuf_submit(e, event_wakeup(type, pid));
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

/* Add weight to key's count in buffer buf. now: the event's time
 * (bpf_ktime_get_ns()) if the caller has it, else 0 (read here when the
 * timeline needs it): a clock read is a helper call, not free.
 */
static __always_inline void count_sample_at(__u32 buf, struct sample_key *key, __u64 weight,
					    __u64 now)
{
	void *map = buf ? (void *)&counts1 : (void *)&counts0;
	__u64 *val;
	long err;

	if (timeline_ns && begin_ns) {
		if (!now)
			now = bpf_ktime_get_ns();
		key->slice = now > timeline_origin_ns
				 ? (__u32)((now - timeline_origin_ns) / timeline_ns) + 1
				 : 1;
	}
	val = bpf_map_lookup_elem(map, key);

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

static __always_inline void count_sample(__u32 buf, struct sample_key *key, __u64 weight)
{
	count_sample_at(buf, key, weight, 0);
}

/* A wait (or piece of one) too short for a marker of its own, [start, end),
 * to be merged with the thread's others (struct short_wait_event). A full
 * ring counts it and its time: it is in the counts and in no marker.
 */
static __always_inline void emit_short(__u32 pid, __u32 tid, __u32 kind, __u64 start, __u64 end,
				       __u32 flags)
{
	struct short_wait_event *e;

	if (!short_waits_on || end <= start)
		return;
	e = bpf_ringbuf_reserve(&short_waits, sizeof(*e), 0);
	if (!e) {
		__u32 idx = STAT_SHORT_WAITS_LOST_NS;
		__u64 *v = bpf_map_lookup_elem(&stats, &idx);

		stat_inc(STAT_SHORT_WAITS_LOST);
		if (v)
			*v += end - start;
		return;
	}
	e->start_ns = start;
	e->end_ns = end;
	e->pid = pid;
	e->tid = tid;
	e->kind = kind;
	e->flags = flags;
	bpf_ringbuf_submit(e, 0);
}

/* An interval that ended, [start, end): sent to userspace when a marker needs
 * it (long enough) or, with may_split, when it spans a time slice's end:
 * counted as a whole in the drain's slice it would put its time where it
 * ended. True when the event carries the weight (the caller counts nothing);
 * false when the caller counts it (also when the ring is full: counted).
 */
static __always_inline bool emit_interval(__u64 start, __u64 end, const struct sample_key *key,
					  bool may_split)
{
	bool mark = interval_min_ns && end - start >= interval_min_ns;
	__u64 origin = timeline_origin_ns;
	bool split = may_split && slice_ns && begin_ns && start >= begin_ns && end > start &&
		     (start - origin) / slice_ns != (end - 1 - origin) / slice_ns;
	struct interval_event *e;

	if (!mark && !split) {
		emit_short(key->pid, key->tid, key->kind, start, end, 0);
		return false;
	}
	e = bpf_ringbuf_reserve(&intervals, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_INTERVALS_LOST);
		return false;
	}
	e->start_ns = start;
	e->end_ns = end;
	e->flags = (mark ? INTERVAL_MARK : 0) | (split ? INTERVAL_UNCOUNTED : 0);
	e->pad = 0;
	e->key = *key;
	bpf_ringbuf_submit(e, 0);
	return split;
}

/* The event families, each in its own file over the maps and helpers above. */
#include "oncpu.bpf.h"
#include "offcpu.bpf.h"
#include "gil.bpf.h"
#include "mem.bpf.h"
#include "lifecycle.bpf.h"
