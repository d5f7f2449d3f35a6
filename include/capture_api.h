/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_CAPTURE_API_H
#define RAMPA_CAPTURE_API_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>
#include "capture.h"
#include "capture_maps.h"
#include "mem.h"

/* The BPF side of a recording: load, attach, poll for process events, drain
 * aggregated stacks. Everything libbpf stays inside src/capture.c.
 */
struct capture;

struct capture_sample {
	__u32 pid, tid;
	const __u64 *ustack; /* leaf first */
	const __u64 *usp;    /* the stack pointer in each frame of ustack, or NULL */
	__u32 nustack;
	const __u64 *kstack; /* leaf first */
	__u32 nkstack;
	bool ustack_lost, kstack_lost;	  /* an id was expected but not usable */
	const struct py_stack *py;	  /* Python frames (leaf first), or NULL */
	__u32 py_status;		  /* enum py_status */
	__u32 kind;			  /* enum sample_kind */
	__u32 snap_id;			  /* stack taken by userspace (off-CPU since the start) */
	__u32 unwind_status;		  /* enum unwind_status: how ustack was walked */
	__u64 holder;			  /* KIND_GIL_WAIT: tstate holding the GIL */
	const struct py_stack *holder_py; /* ... its Python stack, or NULL */
	__u64 count;			  /* samples (KIND_CPU) or nanoseconds */
	/* KIND_CPU with opts.sample_times: the instants (CLOCK_MONOTONIC ns,
	 * ascending) of the samples of this count that were logged, at most
	 * count of them; NULL and 0 otherwise.
	 */
	const __u64 *times;
	__u32 ntimes;
	/* 1 + the timeline slice (capture_opts.timeline_ns, from the window's
	 * start) the kernel counted it in; 0: not known (the caller's own).
	 */
	__u32 slice;
};

struct capture_opts {
	unsigned int hz;
	bool system_wide;
	bool follow_forks;
	__u32 offcpu_kinds; /* 1 << KIND_OFFCPU_*; 0: no scheduler hook at all */
	bool gil;	    /* measure GIL waits (syscall hooks) */
	bool no_sampling;   /* no perf events: the other hooks only */
	bool gil_holders;   /* keep samples of threads holding the GIL only */
	/* Process events wake capture__poll only when they must be acted on
	 * at once (a process's first sample, the exec of a sampled process,
	 * an unwind miss) or a quarter of the ring is full: the others wait
	 * for the caller's next poll. An idle caller sleeps.
	 */
	bool lazy_wakeup;
	bool mem;		/* memory programs (bpf/mem.bpf.h): on_mem gets their events */
	__u32 mem_fault_sample; /* one anonymous write fault in this many; 0: default */
	bool mem_precise;	/* allocator probes (bpf/memalloc.bpf.h) instead of faults */
	__u64 mem_sample_bytes; /* mean bytes between sampled allocations; 0: default */
	void (*on_mem)(const struct mem_event *e, void *ctx);
	void (*on_event)(const struct capture_event *e, void *ctx);
	/* A code object's names, copied at first sight; before any sample
	 * that names it by e->id is handed to capture__drain's callback.
	 */
	void (*on_code)(const struct py_code_event *e, void *ctx);
	/* An off-CPU interval or GIL wait that ended, from start_ns (the
	 * window's start at the latest) to end_ns (CLOCK_MONOTONIC), its stacks
	 * in s (s->count: its length in ns), as capture__poll finds them; NULL:
	 * none sent. flags: INTERVAL_MARK when interval_min_ns (ns) long or
	 * more, INTERVAL_UNCOUNTED (see slice_ns). Besides the counts, which
	 * have every interval but the INTERVAL_UNCOUNTED ones.
	 */
	void (*on_interval)(const struct capture_sample *s, __u64 start_ns, __u64 end_ns,
			    unsigned int flags, void *ctx);
	__u64 interval_min_ns;
	/* With on_interval and interval_min_ns: each wait shorter than that
	 * (off-CPU interval, GIL futex wait, or a piece of a GIL wait:
	 * flags SHORT_WAIT_PIECE), its thread and times only; the counts have
	 * it. NULL: none sent.
	 */
	void (*on_short_wait)(__u32 pid, __u32 tid, __u32 kind, __u64 start_ns, __u64 end_ns,
			      unsigned int flags, void *ctx);
	/* With on_interval: the timeline's slice (ns; 0: none). An off-CPU
	 * interval across a slice's end comes to on_interval with flags
	 * INTERVAL_UNCOUNTED, its weight left out of the counts, for the
	 * caller to split between the slices.
	 */
	__u64 slice_ns;
	/* The timeline's slice (ns; 0: none): counts are stamped in the kernel
	 * with the slice they happened in (capture_sample.slice).
	 */
	__u64 timeline_ns;
	/* Log each on-CPU sample's instant (capture_sample.times). */
	bool sample_times;
	void *ctx; /* for on_event, on_code and on_interval */
	/* Map sizes by enum capture_map_limit (0: capture_maps[]'s default),
	 * or NULL for the defaults; borrowed during capture__open.
	 */
	const uint32_t *map_entries;
};

/* Load the programs. On failure prints the cause and the fix and returns a
 * negative errno: -EPERM (no privileges), -EOPNOTSUPP (no kernel BTF),
 * -EINVAL (the kernel rejected a program), others.
 */
int capture__open(struct capture **out, const struct capture_opts *opts);
/* A target is pid started at start_ticks (/proc/PID/stat field 22; 0: not
 * checked). It stays in the kernel's set until its last thread exits (then
 * an EVENT_EXIT tells on_event), or until removed.
 */
int capture__add_target(struct capture *c, pid_t pid, __u64 start_ticks);
void capture__remove_target(struct capture *c, pid_t pid);
/* Whether the walker knows an interpreter in pid (given by
 * capture__set_python, or inherited at fork from its parent's).
 */
bool capture__has_python(struct capture *c, pid_t pid);
/* Tell the walker how to read the interpreter of pid (NULL: none). */
int capture__set_python(struct capture *c, pid_t pid, const struct py_proc *proc);
/* The unwinder's tables (struct unwind_row and friends in capture.h; the
 * policy is src/unwind.c's). capture__unwind_rows copies n rows to index
 * first of the shared row array; capture__unwind_table names a run of rows
 * table id; capture__unwind_proc gives pid its mappings (NULL: removes
 * them, and pid is walked by frame pointers again). 0, or -1 (out of range,
 * map full).
 */
int capture__unwind_rows(struct capture *c, __u32 first, const struct unwind_row *rows, __u32 n);
int capture__unwind_table(struct capture *c, __u32 id, const struct unwind_table *t);
int capture__unwind_proc(struct capture *c, pid_t pid, const struct unwind_proc *p);
/* Whether tables can be given to the kernel at all. */
bool capture__can_unwind(const struct capture *c);
/* The size limit i was loaded with (entries, or bytes for a ring buffer). */
uint32_t capture__map_entries(const struct capture *c, enum capture_map_limit i);
/* The kernel forgets the id it gave the code object at addr in pid (the
 * process is gone): a later one there gets a new id and code event. Quiet
 * when there is none (the LRU map let it go already).
 */
void capture__forget_code(struct capture *c, pid_t pid, __u64 addr);
/* Open the per-CPU perf events and attach everything. 0, or a negative
 * errno after one error line: -EPERM when not permitted.
 */
int capture__start(struct capture *c);
/* Time (ns) capture__poll() may spend delivering events when its timeout
 * is shorter.
 */
#define CAPTURE_POLL_BUDGET_NS (50ull * 1000 * 1000)
/* Wait up to timeout_ms for process events and deliver them, returning
 * after timeout_ms (or CAPTURE_POLL_BUDGET_NS if longer) even while more
 * keep coming. 0 when the queue was emptied,
 * 1 when events are still queued (the budget ran out: call again), a
 * negative errno otherwise (-EINTR on a signal).
 */
int capture__poll(struct capture *c, int timeout_ms);
/* An fd that polls readable when capture__poll has events to deliver, for a
 * caller that waits on several things at once; the capture's.
 */
int capture__poll_fd(const struct capture *c);
/* Drains between two clears of the whole stack maps (each drain deletes the
 * stacks its samples named).
 */
#define CAPTURE_CLEAR_DRAINS 16
/* Switch buffers and hand every aggregated sample of the old buffer to cb. */
int capture__drain(struct capture *c, void (*cb)(const struct capture_sample *s, void *ctx),
		   void *ctx);
/* A thread already off-CPU when the run starts (asleep: KIND_OFFCPU_BLOCKED, or
 * waiting for a CPU: KIND_OFFCPU_RUNNABLE): account it from ts (CLOCK_MONOTONIC
 * ns) with the stack userspace took, snap_id; run_ns is its CPU time so far
 * (ns, /proc/PID/task/TID/schedstat; 0 if unknown). 0 when seeded; 1 when there is
 * nothing to do (BPF saw the thread switch already, or kind is not measured);
 * -1 when the map is full.
 */
int capture__offcpu_seed(struct capture *c, pid_t pid, pid_t tid, __u32 kind, __u32 snap_id,
			 __u64 ts, __u64 run_ns);
/* Hand every interval still open to cb (count: time so far), leaving it open. */
void capture__offcpu_pending(struct capture *c, __u64 now_ns,
			     void (*cb)(const struct capture_sample *s, void *ctx), void *ctx);
/* End of the run: hand every interval still open to cb, counted up to end_ns. */
void capture__offcpu_flush(struct capture *c, __u64 end_ns,
			   void (*cb)(const struct capture_sample *s, void *ctx), void *ctx);
/* The stacks of a memory event's key (e->key of a MEM_FAULT) as a sample
 * of count bytes, handed to cb; code events queued before are delivered
 * first (capture__consume_codes).
 */
void capture__mem_sample(struct capture *c, const struct sample_key *key, __u64 count,
			 void (*cb)(const struct capture_sample *s, void *ctx), void *ctx);
/* Deliver the code events queued so far (on_code). */
void capture__consume_codes(struct capture *c);
/* Per-thread GIL statistics, at the end of a gil-wait run. */
void capture__gil_threads(struct capture *c,
			  void (*cb)(__u32 tid, const struct gil_thread *t, void *ctx), void *ctx);
/* CPU time (ns, sum_exec_runtime at exit) of pid's threads that exited
 * while it was a target; 0 if none.
 */
__u64 capture__exit_runtime(struct capture *c, pid_t pid);
/* The name the kernel gave pid (its comm at its exec or first sample) into
 * buf (len bytes, NUL-terminated); false if none was kept.
 */
bool capture__proc_comm(struct capture *c, pid_t pid, char *buf, size_t len);
/* Probe code_dealloc of pid (offset in the ELF file at path): from then
 * on, the walks trust the code objects they checked until one is freed, and
 * read no code object twice. 0, or a negative errno (not probed: the walks
 * read and check every code object, as before).
 */
int capture__code_free_attach(struct capture *c, pid_t pid, const char *path, uint64_t offset);
/* pid exited or exec'd: its code_dealloc probe goes. */
void capture__code_free_detach(struct capture *c, pid_t pid);
/* pid's name is no longer needed from the kernel (it exited and was let go). */
void capture__forget_proc_comm(struct capture *c, pid_t pid);
/* The run's window opens at begin_ns (CLOCK_MONOTONIC ns), once everything
 * is attached: nothing before it is counted, and off-CPU intervals begun
 * during attach count from it. The timeline's slices (timeline_ns) count
 * from origin_ns (0 or after begin_ns: from begin_ns).
 */
void capture__begin(struct capture *c, __u64 begin_ns, __u64 origin_ns);
/* rampa-bpf mem: the memory programs leave pid alone until its next exec
 * (CMD forked, its allocator probed before it execs). 0: none.
 */
void capture__mem_hold(struct capture *c, pid_t pid);
/* The run's window closes at end_ns (CLOCK_MONOTONIC ns): later samples are
 * dropped and off-CPU intervals are counted up to it.
 */
void capture__end(struct capture *c, __u64 end_ns);
/* Sample instants logged but not waiting for their drain, at most
 * CAPTURE_MAX_PENDING_TIMES: past it they are dropped. The counts of those
 * dropped, and of those whose sample was not found in the drain of its
 * buffer (its count lost, or logged too late).
 */
#define CAPTURE_MAX_PENDING_TIMES 65536
void capture__sample_time_losses(const struct capture *c, uint64_t *dropped, uint64_t *unmatched);

/* Sum of the per-CPU loss and sample counters, indexed by enum capture_stat. */
void capture__stats(struct capture *c, uint64_t out[STAT__MAX]);
/* What the BPF programs cost, in ns of run time and runs: all of them, the
 * sampler, the scheduler hook. measured: the kernel timed them (run-time
 * statistics were enabled from capture__start on); else all are 0.
 */
struct capture_prog_stats {
	uint64_t run_ns, runs;
	uint64_t sampler_ns, sampler_runs;
	uint64_t switch_ns, switch_runs;
	bool measured;
};
void capture__prog_stats(struct capture *c, struct capture_prog_stats *out);
/* mem --precise: uprobes on the allocator of pid: each enum mem_alloc_fn
 * function in the ELF file at paths[f] (a path the kernel resolves), at
 * file offset offsets[f] (0: absent, not probed); replaces pid's probes,
 * unless they are these already (same files and offsets: kept). 0,
 * or a negative errno (pid keeps no probe). capture__alloc_detach removes
 * them (none: nothing done); capture__alloc_name names a function.
 */
int capture__alloc_attach(struct capture *c, pid_t pid, const char *const paths[ALLOC__MAX],
			  const uint64_t offsets[ALLOC__MAX]);
void capture__alloc_detach(struct capture *c, pid_t pid);
const char *capture__alloc_name(int fn);
void capture__close(struct capture *c);

#endif
