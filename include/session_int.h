/* SPDX-License-Identifier: GPL-2.0 */
/* Private to the session engine: src/session.c, src/summary.c (what it
 * prints) and src/spawn.c (the command it runs). Commands use session.h.
 */
#ifndef RAMPA_SESSION_INT_H
#define RAMPA_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <linux/types.h>

#include "capture.h"
#include "mem.h"
#include "memcurve.h"
#include "python.h"
#include "session.h"
#include "stacks.h"
#include "u64map.h"

/* At most this long between drains; and at each time slice's end. */
#define DRAIN_INTERVAL_SEC 1.0
/* python_only: forked processes without an entry kept; past it, the gone let go. */
#define SESSION_MAX_BORN 65536
/* sleep_idle without a timeline: the longest sleep between drains. */
#define SLEEP_IDLE_MAX_SEC 60.0
/* A fall of a target's RSS at its end, sample to sample (see memcurve). */
#define MEM_RSS_STEP_BYTES (64 * 1024)
/* A process whose interpreter is not mapped yet (libpython loads after exec)
 * is looked at again this often while the dynamic loader may still be at
 * work, then at doubling gaps, for this long in all: most processes run no
 * Python, and a look reads their maps (the agent sees every process).
 */
#define PY_RETRY_SEC	  0.02
#define PY_RETRY_FAST_SEC 0.2
#define PY_RETRY_FOR_SEC  3.0
/* How long CMD has to exit after SIGTERM when the profile ends first. */
#define CHILD_STOP_GRACE_SEC 2.0
/* Processes named in the summary, heaviest first. */
#define PROCESSES_LISTED 8

/* What is known of a process seen: its root frames (per profile), samples
 * and weight, and its CPU time when the window opened and closed.
 */
struct proc_name {
	pid_t pid;
	uint32_t frame;
	uint32_t pid_frame; /* "name-PID", 0: not made yet */
	char name[64];
	uint64_t samples; /* on-CPU samples */
	uint64_t weight;  /* in the output's unit */
	/* CPU time of its threads when the run started (0 for a process
	 * created during it); unknown for one first seen mid-run.
	 */
	int64_t base_ns;
	bool base_known;
	int64_t end_ns_used; /* CPU time used when the window closed, -1: not read */
};

struct session {
	struct session_opts o;
	pid_t *desc; /* -p: descendants alive at attach, followed too */
	size_t ndesc, desc_cap;
	struct gilwait *gil;	   /* MODE_GILWAIT: the table */
	uint64_t start_ns, end_ns; /* the window, CLOCK_MONOTONIC */
	uint64_t origin_ns;	   /* the timeline's slice 0 begins here (start_ns or before) */
	uint64_t deadline_ns;	   /* -d: the window's end, set in BPF at the start; 0: none */
	bool started, stopped;
	const char *why; /* the run ended: why (NULL: the deadline) */
	struct tstate_tid {
		pid_t pid, tid;
		uint64_t tstate;
	} * tstates;
	size_t ntstates, tstates_cap;

	struct capture *cap;
	struct symbolizer *sym;
	struct python *py;
	struct pythreads *pt; /* with -T and gil-wait: thread names */
	struct stacks *stacks;
	struct unwind *unwind; /* CFI tables for the kernel's walker; NULL: frame pointers */
	struct pending {
		pid_t pid;
		double first, next; /* first: the process's start, now_sec() clock */
		uint64_t maps_sig;  /* its executable mappings at the last look */
	} * pending;		    /* processes to look at again for Python */
	size_t npending, pending_cap;
	bool interrupted; /* stopped by SIGINT */
	/* The last unsupported-interpreter warning: a chain of execs handled
	 * late (a wrapper script that execs python) finds the same image at
	 * each, and says it once.
	 */
	pid_t unsupported_pid;
	char unsupported_why[512];
	uint64_t execs_passed; /* -a: execs of processes not read then (no sample yet) */
	/* python_only: live processes found to run no Python, PID -> when
	 * to look again (ns, CLOCK_MONOTONIC; 0: at once), their samples left
	 * out; the PIDs due a look at the next drain.
	 */
	struct u64map not_python;
	/* python_only: processes forked during the run that have no entry yet
	 * (most never get one): their CPU time counts from 0 when they do.
	 */
	struct u64map born;
	pid_t *recheck;
	size_t nrecheck, recheck_cap;
	uint64_t not_python_procs;	      /* processes found without Python */
	uint64_t not_python_samples;	      /* their samples (and intervals) left out */
	uint64_t not_python_found;	      /* ... found to run Python at a later look */
	uint64_t py_samples[PY_MAP_FULL + 1]; /* samples of Python processes by status */
	uint64_t py_unnamed[PY_NAME__MAX];    /* on-CPU samples with one, by cause */
	uint64_t py_unnamed_other;	      /* off-CPU and GIL-wait stacks with one */
	uint64_t py_ok_unnamed;		      /* ... of them walked whole (PY_OK) */
	/* On-CPU samples of a process later found to run a walkable CPython,
	 * taken before it was: no Python frames (-a, a loaded machine).
	 */
	uint64_t py_before_found;
	uint64_t py_before_found_ns; /* ... and off-CPU, GIL-wait time, ns */
	/* Samples (PID -> count) and time (PID -> ns) without Python frames of
	 * processes not known to run Python yet: added to the two above if the
	 * process is found to, let go at its exit otherwise. Kept across an
	 * exec: a drain may come before the exec event, and the new image's
	 * samples cannot be told from the old one's (those of a shell that
	 * execs python count too).
	 */
	struct u64map pre_py_samples, pre_py_ns;
	uint64_t ns_by_kind[4]; /* off-CPU and GIL wait ns by enum sample_kind */
	uint64_t samples_cpu;	/* on-CPU samples */
	uint64_t snapshots, snapshot_failed, snapshot_late;
	struct u64map procs; /* PID -> struct proc_name * */
	struct profile *prof;
	struct profile *open_into; /* session__add_open_intervals(): where they go */
	pid_t child;
	bool child_execed;
	int child_status;
	bool child_exited;
	int go_fd, err_fd; /* CMD waits on go_fd; err_fd says if exec failed */
	struct rusage child_rusage;
	struct u64map tids; /* threads with samples: TID -> PID */
	size_t tids_gone;   /* ... of exited processes, counted and let go */
	size_t procs_gone;  /* -a: processes with samples let go at exit */
	uint64_t gil_procs; /* MODE_GILWAIT/GIL: processes whose GIL was found */
	/* The target tree's processes alive now (-p without --no-children,
	 * -- CMD): the run goes on while any is.
	 */
	struct u64map tree;
	struct u64map code_free_tried; /* PID -> code events looked at for its code_dealloc probe
					  (CODE_FREE_DONE: settled) */
	size_t code_free_probed, code_free_unprobed; /* ... attached, or not */
	/* native_sites: the profile before session__name_native named them. */
	bool sites_named;
	size_t sites_stacks, sites_bytes;
	double sites_cpu_sec; /* CPU time naming them, after the window */
	bool tree_noted;      /* said that CMD exited before its descendants */
	pid_t *exited;	      /* processes gone since the last drain, forgotten after it */
	size_t nexited, exited_cap;
	uint64_t nprocs, nexits;
	uint64_t ustack_lost, kstack_lost;
	double t_invoked, t_sampling; /* rampa-bpf started; perf events attached */
	double next_drain, drain_wait, next_cpu_read;
	bool read_since_drain; /* sleep_idle: a process was read since the last drain */
	/* MODE_MEM: events queued until their code events are in (drain). */
	struct memtrack *mem;
	struct memcurve curve;
	struct mem_event *mem_q;
	size_t nmem_q, mem_q_cap;
	uint32_t mem_frames[STACKS_MAX_FRAMES], mem_nframes;
	double next_rss;
	double next_pss;		 /* while several targets live: when PSS is read next */
	uint64_t pss_reads;		 /* curve points that are sums of PSS */
	uint64_t pss_unsteady;		 /* PSS sums not taken: a target was exiting */
	uint64_t mem_shutdown_releases;	 /* releases by Python threads with no frame: ignored */
	struct u64map mem_shutdown_pids; /* PIDs that made such a release */
	double mem_shutdown_t;		 /* the first such release of the last of them (s) */
	struct u64map mem_last;		 /* PID -> RSS at the last sample (bytes) */
	struct u64map mem_steady_t;	 /* PID -> last time (s, double bits) RSS was not falling */
	uint64_t mem_sample_bytes;	 /* --precise: mean bytes between sampled allocations */
	/* --precise: processes whose allocator is probed, not probed; those
	 * that map no libc yet (just exec'ed): PID -> since when (s, bits).
	 */
	uint64_t mem_probed, mem_unprobed;
	struct u64map mem_probe_pending;
	struct u64map mem_probed_exe; /* --precise: PID -> the image probed (exe_id) */
	int kpageflags_fd;	      /* /proc/kpageflags; -1: not open yet, -2: unreadable */
	int pagemap_fd;		      /* /proc/PID/pagemap of pagemap_pid, or -1 */
	pid_t pagemap_pid;
	uint64_t mem_huge_faults; /* sampled faults on transparent huge pages */
	/* The timeline: what a drain brings is stamped with the slice the
	 * previous drain happened in (drains come at every slice's end);
	 * intervals still open at the end, whose start is known, are split over
	 * the slices they cover (flush_end_ns set while they come), as are
	 * intervals the kernel sends across a slice's end (split_end_ns: the
	 * end of the interval being split).
	 */
	uint64_t last_drain_ns, flush_end_ns, split_end_ns;
	uint32_t stamp;
	uint64_t markers_dropped; /* markers past PROFILE_MAX_MARKERS, every profile */
	/* Short waits being merged into one marker per thread, kind and slice
	 * (struct short_merge, session.c): (tid << 2 | kind) -> index + 1. Only
	 * the threads that waited since the last drain are kept.
	 */
	struct u64map merging;
	struct short_merge *merges;
	size_t nmerges, merges_cap;
	/* What the markers hold, for the summary: waits of a marker each, merged
	 * markers and the short waits they hold, and every wait's time (ns).
	 */
	uint64_t marked_waits, merged_markers, merged_waits, marked_ns;
};

/* The marker kind (enum profile_marker_kind) of a wait of sample kind
 * skind in this session's mode: 0, or -1 when the mode keeps no markers of
 * it (gil-wait: GIL waits; wall: off-CPU time of both kinds; offcpu:
 * blocked).
 */
int session_marker_kind(const struct session *se, uint32_t skind, uint32_t *kind);

/* Every process seen, one per call from *it = 0 on; NULL at the end. */
static inline struct proc_name *session__next_proc(struct session *se, size_t *it)
{
	for (; *it < se->procs.cap; (*it)++)
		if (u64map_used(&se->procs, *it))
			return (struct proc_name *)(uintptr_t)se->procs.slots[(*it)++].val;
	return NULL;
}

/* session.c, for summary.c */
struct proc_name *session__proc(struct session *se, pid_t pid);
int64_t session__process_used_ns(struct session *se, const struct proc_name *p);

/* summary.c, for session.c: the targets in words ("PID 12 (python3)") into
 * buf; the profile's header (mode, unit, target, duration, window).
 */
void session__describe_target(struct session *se, char *buf, size_t len);
void session__set_meta(struct session *se);

/* spawn.c: fork CMD held on a pipe (se->child, go_fd, err_fd); release it
 * (exec); end it when the profile ends first. 0, or a negative errno after
 * one error line: -ENOEXEC when CMD cannot be run.
 */
int spawn__child(struct session *se);
int spawn__release(struct session *se);
void spawn__stop(struct session *se);

/* session_procs.c: processes and Python inspection */
struct proc_name *session_proc_entry_comm(struct session *se, pid_t pid, bool refresh,
					  const char *comm);
struct proc_name *session_proc_entry(struct session *se, pid_t pid, bool refresh);
void session_proc_base(struct session *se, pid_t pid, bool known_zero);
void session_processes_at_end(struct session *se);
void session_add_descendants(struct session *se);
uint32_t session_proc_pid_frame(struct session *se, struct proc_name *p);
bool session_forget_proc_name(struct session *se, pid_t pid);
void session_free_proc_names(struct session *se);
/* Every process (named_python: those whose executable is named python*, with
 * their unwind tables) looked at for CPython, before the first sample.
 */
void session_inspect_all_processes(struct session *se, bool named_python);
void session_pending_remove(struct session *se, pid_t pid);
/* Look for CPython in pid; with retry, again for a while when absent (its
 * loader may not have mapped libpython yet): for PY_RETRY_FOR_SEC from its
 * start, or from now when execed (it just called exec).
 */
void session_inspect_python(struct session *se, pid_t pid, bool retry, bool execed);
void session_retry_pending(struct session *se);
const char *session_describe_python(pid_t pid, void *ctx);

/* session_gil.c: gil-wait's bookkeeping */
const char *session_thread_name_of(pid_t pid, pid_t tid, void *ctx);
pid_t session_holder_tid(struct session *se, pid_t pid, uint64_t tstate);
void session_gil_behind(struct session *se, const struct capture_sample *s);
void session_gil_thread_seen(__u32 tid, const struct gil_thread *t, void *ctx);
void session_gil_thread_stats(__u32 tid, const struct gil_thread *t, void *ctx);
void session_gil_threads_alive(struct session *se, pid_t pid);

/* session_mem.c: mem's faults, releases and RSS curve */
void session_mem_on_sample(const struct capture_sample *s, void *ctx);
void session_on_mem(const struct mem_event *e, void *ctx);
void session_mem_process(struct session *se);
void session_mem_rss(struct session *se);
int session_mem_probe(struct session *se, pid_t pid);
void session_mem_probe_pending(struct session *se);
void session_mem_measure(struct session *se);
/* How long a process that just exec'ed may map no libc before --precise
 * gives up on it (s).
 */
#define MEM_PROBE_RETRY_SEC 2.0
/* How old a fault's event is before the page it mapped is read (ns). */
#define MEM_FAULT_SETTLE_NS (20 * 1000000ull)
/* ... and how long its page may be missing (a fault not handled yet) before
 * it is taken as given back already (ns).
 */
#define MEM_FAULT_WAIT_NS (1000 * 1000000ull)
void session_mem_add_retained(const uint32_t *frames, uint32_t n, uint64_t retained, uint64_t churn,
			      void *ctx);

#endif
