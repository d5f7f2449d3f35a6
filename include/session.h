/* SPDX-License-Identifier: GPL-2.0 */
/* The capture engine behind record, gil-wait and top (src/session.c): it owns
 * capture (BPF), the symbolizers, Python inspection and the sample-to-frames
 * step (stacks.h), and adds what it collects to one profile at a time.
 *
 *	session__new(&opts, prof)      targets and mode fixed here
 *	session__start(se)             attach, spawn CMD, sampling begins
 *	while (!session__poll(se))     until the deadline, a signal, or the
 *		...                    targets are gone (session__why says which)
 *	session__stop(se)              the window closes; every sample and
 *	                               open interval is in the profile
 *	session__print_summary(se)     what was measured and lost (summary.c)
 *	session__finish(se, ret)       CMD stopped if it still runs; exit status
 *	session__free(se)
 *
 * session__drain() and session__swap_profile() let a command that writes a
 * profile per time window take one and start the next. The engine's
 * functions return 0 or a negative errno, after one error line; the
 * command-line helpers (session__parse_*, session__check_targets,
 * session__record) return the commands' exit status (EXIT_* of util.h).
 */
#ifndef RAMPA_SESSION_H
#define RAMPA_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture_maps.h"

struct gilwait;
struct memcurve;
struct memtrack;
struct profile;
struct session;

#define SESSION_DEFAULT_HZ 99
#define SESSION_MAX_HZ	   10000
#define SESSION_MAX_PIDS   256

/* What a session measures (one row each in the mode table of session.c). */
enum session_mode {
	MODE_CPU,     /* on-CPU samples; counts are samples */
	MODE_WALL,    /* on-CPU samples and off-CPU time; microseconds */
	MODE_OFFCPU,  /* time blocked off-CPU; microseconds */
	MODE_GILWAIT, /* time waiting to take the GIL; microseconds */
	MODE_GIL,     /* on-CPU samples of threads holding the GIL; samples */
	MODE_MEM,     /* retained memory growth by stack (rampa-bpf mem); bytes */
};

struct session_opts {
	enum session_mode mode;
	unsigned int hz; /* samples per second per CPU */
	double duration; /* seconds from the start; 0: no deadline */
	pid_t pids[SESSION_MAX_PIDS];
	uint64_t pid_starts[SESSION_MAX_PIDS]; /* procfs__start_time() at parse */
	int npids;
	bool system_wide; /* -a, or gil-wait without a target */
	char **cmd;	  /* -- CMD ARGS..., NULL-terminated; borrowed */
	bool no_children; /* -p: the PIDs alone, not their descendants */
	bool per_thread;  /* "NAME-TID" frames */
	bool per_process; /* "NAME-PID" frames */
	bool as_root;	  /* under sudo, CMD keeps root */
	bool quiet;
	bool no_progress;	       /* no status line on stderr (top draws its own) */
	unsigned int mem_fault_sample; /* MODE_MEM: one write fault in N; 0: default */
	bool mem_precise;	       /* MODE_MEM: allocator probes, not faults (--precise) */
	uint64_t mem_sample_bytes;     /* --precise: mean bytes between samples; 0: default */
	uint32_t mem_max_blocks;       /* --precise: live blocks tracked; 0: default */
	const char *output; /* named in the start line ("Ctrl-C ... writes X"), or NULL */
	/* The profile's timeline: slices this wide, seconds from the start
	 * (--slice); 0: none. Drains happen at each slice's end.
	 */
	double slice_sec;
	/* Where the timeline's slice 0 begins, CLOCK_MONOTONIC ns, at or before
	 * the start (0: the start): sessions started one after the other (the
	 * agent's modes) share one grid of slices.
	 */
	uint64_t timeline_origin_ns;
	/* Markers (profile.h): off-CPU intervals and GIL waits of this long or
	 * more (seconds) are kept with their start and end, for gecko output;
	 * 0: none. Wall, offcpu and gil-wait modes have such intervals.
	 */
	double marker_min_sec;
	/* Log each on-CPU sample's instant in the profile (gecko output). */
	bool sample_times;
	/* Called when the engine first hears of a process (its first sample),
	 * after each of its execs, and when CPython is found in it later (a
	 * libpython mapped after exec), while it most likely lives: the agent
	 * reads what it is then, before a short process is gone. NULL: none.
	 */
	void (*on_process)(pid_t pid, void *ctx);
	void *on_process_ctx;
	/* BPF map sizes this command needs, by enum capture_map_limit; 0:
	 * the default of capture_maps[] (src/capture_maps.c).
	 */
	uint32_t map_entries[CMAP__MAX];
	/* Longest wait of session__poll() for events, seconds; 0: 0.1. A
	 * command polling several sessions in turn gives each its share.
	 */
	double poll_sec;
	/* A run without end (the agent): what is kept of a process goes at
	 * the drain after its exit in every mode, gil-wait too (whose table
	 * otherwise names exited threads at the end).
	 */
	bool continuous;
	/* Only processes that may run Python (the agent without
	 * --all-processes): one not named python* and mapping no libpython
	 * at its first sample (or after an exec) is not read (maps, unwind
	 * tables, symbols, CPython) and its samples are left out, counted;
	 * looked at again SESSION_RECHECK_SEC later if it is still sampled
	 * (an interpreter loaded since).
	 */
	bool python_only;
	/* Native frames named from ELF symbol tables only, without DWARF's
	 * file, line and inlined calls, and fewer idle files' symbols kept
	 * (symbolizer__set_lean): the agent, for which the line tables of
	 * every interpreter would cost tens of MB.
	 */
	bool lean_symbols;
	/* An idle session sleeps (the agent): process events wake it only when
	 * they must be handled at once (capture_opts.lazy_wakeup), and it
	 * drains at the timeline's slice ends, and DRAIN_INTERVAL_SEC after a
	 * process was read (its samples named while it most likely lives),
	 * rather than every DRAIN_INTERVAL_SEC.
	 */
	bool sleep_idle;
	/* Native frames kept by (file, address) while the run lasts, named
	 * by their function's symbol, and named whole (file:line, inlined
	 * calls: DWARF read then) by session__name_native() once the window
	 * is closed, for the addresses left in the profile: the DWARF of libc
	 * and the interpreter is not read while the target runs. Not with
	 * lean_symbols. For a command that names them before it reads the
	 * profile (record, gil-wait).
	 */
	bool native_sites;
};

#define SESSION_RECHECK_SEC 10.0

#define SESSION_DEFAULT_SLICE_SEC 1.0
#define SESSION_MARKER_MIN_SEC	  0.001 /* gecko output: waits of 1 ms or more */
#define SESSION_MIN_SLICE_SEC	  0.1
#define SESSION_SLICE_HELP                                                                     \
	"      --slice TIME         the timeline's time slice (default 1s; 0: no timeline):\n" \
	"                           counts per stack per slice, so a part of the run can\n"    \
	"                           be shown (report, TIMELINE in rampa-bpf-record(1))\n"

/* The -p list "PID[,PID...]" into o (threads stand for their process,
 * duplicates dropped); cmd names the command in messages. 0, EXIT_USAGE
 * (syntax, too many) or EXIT_NOTARGET (no such process), after one error
 * line.
 */
int session__parse_pids(struct session_opts *o, const char *arg, const char *cmd);

/* Exactly one kind of target: 0, or EXIT_USAGE after one error line. */

/* Under sudo, CMD runs as SUDO_UID: 0, or -EINVAL after one error line
 * when SUDO_UID/SUDO_GID are not user ids (checked before profiling).
 */
int session__check_sudo(const struct session_opts *o);
int session__check_targets(const struct session_opts *o, const char *cmd);

/* The mode named name ("cpu", "wall", "offcpu"/"off-cpu", "gil"); -1 if
 * none. And a mode's name and unit in profiles' headers.
 */
int session__mode_by_name(const char *name);
const char *session__mode_name(enum session_mode m);
const char *session__mode_unit(enum session_mode m);

/* A session over prof (borrowed until swapped out or freed). */
struct session *session__new(const struct session_opts *o, struct profile *prof);

/* Open BPF, add the targets (CMD forked and held), attach, start sampling,
 * release CMD. Signals (SIGINT, SIGTERM, SIGHUP) end the run from here on.
 * 0, or -EPERM/-EOPNOTSUPP (privileges, kernel support), -ESRCH (a target
 * is gone), -ENOEXEC (CMD cannot be run), another negative errno.
 */
int session__start(struct session *se);

/* Wait for events up to 0.1 s (opts.poll_sec) and handle them. true when the run is over:
 * the deadline, a signal, or no target left.
 */
bool session__poll(struct session *se);

/* session__poll waiting at most wait seconds (0: handle what is there, wait
 * for nothing), for a caller that waits on several sessions at once with
 * session__poll_fd and session__next_wake.
 */
bool session__poll_for(struct session *se, double wait);

/* An fd that polls readable when the session has events to handle; the
 * session's.
 */
int session__poll_fd(const struct session *se);

/* When session__poll must be called again at the latest (its next drain,
 * a retry, the deadline), in now_sec() seconds (CLOCK_MONOTONIC).
 */
double session__next_wake(const struct session *se);

/* Seconds from the timeline's origin up to which every count is in the
 * profile: the last drain's (the slices before it are complete, but for
 * off-CPU intervals still open then, which come at their end).
 */
double session__drained(const struct session *se);

/* The timeline's origin (session_opts.timeline_origin_ns, else the start),
 * CLOCK_MONOTONIC ns; 0 before the start.
 */
uint64_t session__origin_ns(const struct session *se);

/* Why the run ended ("interrupted", "command exited"...), NULL for the
 * deadline.
 */
const char *session__why(const struct session *se);

/* Close the window: every sample, and every off-CPU interval up to now, goes
 * into the profile. Then the profile's header (mode, unit, target, window).
 */
void session__stop(struct session *se);

/* With native_sites, after session__stop(): every native frame of the
 * profile named whole (stacks__name_sites); keep_addresses: each keeps its
 * module and address (pprof). The profile is rewritten in place (the same
 * pointer; frame ids change). Nothing without native_sites.
 */
void session__name_native(struct session *se, bool keep_addresses);

/* Everything collected so far into the profile (process events first). */
void session__drain(struct session *se);

/* Continue into fresh (empty, owned by the caller); the profile filled so
 * far is returned, the caller's. Frame caches move to fresh; fresh gets the
 * session's timeline (slices numbered from the session's start) unless it
 * has one.
 */
struct profile *session__swap_profile(struct session *se, struct profile *fresh);

struct profile *session__profile(const struct session *se);

/* Whether the engine found a CPython in pid (one it can walk, or not),
 * as of its last look; false once pid exited and was let go.
 */
bool session__runs_python(const struct session *se, pid_t pid);

/* Seconds between the window's start and its end (or now, while open). */
double session__elapsed(const struct session *se);

/* What the run has counted so far, for status lines (progress, top). */
struct session_counts {
	double elapsed;	    /* seconds, as session__elapsed() */
	uint64_t samples;   /* on-CPU samples taken */
	uint64_t processes; /* processes with samples (or measured time) */
	uint64_t threads;   /* threads with samples */
	uint64_t exits;	    /* target processes that exited */
	uint64_t lost;	    /* every loss the summary lists, summed */
	/* What the engine's bounds let go (read again when needed), and the
	 * processes found without Python (python_only) and their samples.
	 */
	uint64_t symbol_files_dropped, unwind_tables_evicted, unwind_files_forgotten;
	uint64_t frame_names_dropped;
	uint64_t not_python_procs, not_python_samples;
};
void session__counts(struct session *se, struct session_counts *c);

/* Off-CPU intervals still open (wall and offcpu modes), each weighed with
 * its time so far, added to into (the caller's, frames named as in the
 * session's profile): a live view sees a thread blocked for longer than a
 * refresh. They stay open, and go into the session's profile when they end.
 */
void session__add_open_intervals(struct session *se, struct profile *into);

/* The gil-wait table (MODE_GILWAIT), else NULL; the session's. */
struct gilwait *session__gil_table(const struct session *se);

/* Print the GIL table to f (see gilwait__print). */
void session__print_gil_table(struct session *se, FILE *f, bool json);

/* The summary on stderr (nothing with quiet): target, mode, time, samples,
 * coverage, threads, processes, Python, losses, attach, profiler CPU.
 */
void session__print_summary(struct session *se);

/* End CMD if it still runs (SIGTERM, then SIGKILL) and give the exit status
 * to return: ret (an exit status) if not 0, else CMD's (128 + N if killed by
 * signal N), else 0.
 */
int session__finish(struct session *se, int ret);

void session__free(struct session *se);

const struct session_opts *session__opts(const struct session *se);

/* MODE_MEM: the retained growth and churn by stack, and the RSS curve of
 * the target tree (sampled every MEM_RSS_INTERVAL_SEC); the session's.
 */
/* Often enough that the low envelope of a sawtooth (bursts allocated and
 * freed) is seen in each half of --max-growth's window.
 */
#define MEM_RSS_INTERVAL_SEC 0.02
struct memtrack *session__memtrack(const struct session *se);
struct memcurve *session__memcurve(struct session *se);
/* mem: how many points of the curve are sums of PSS (several targets alive
 * at once) rather than one target's RSS.
 */
uint64_t session__mem_pss_reads(const struct session *se);
/* mem: PSS sums not taken because a target was exiting meanwhile (its
 * shared pages moving to the others' PSS): no point of the curve then.
 */
uint64_t session__mem_pss_unsteady(const struct session *se);
/* Releases by Python threads with no frame running (an interpreter shutting
 * down): not churn, left out.
 */
uint64_t session__mem_shutdown_releases(const struct session *se);
/* Sampled faults that mapped a transparent huge page (counted whole). */
uint64_t session__mem_huge_faults(const struct session *se);

/* gil-wait, --mode gil: how many processes had a GIL to measure. */
uint64_t session__gil_processes(const struct session *se);

/* Where and how record and gil-wait write what a session collected. */
struct session_output {
	const char *path;	    /* NULL: rampa-[default_prefix]TARGET.EXT */
	const char *format_name;    /* --format, NULL: from path's extension */
	const char *default_prefix; /* "gil-" for gil-wait */
	unsigned int flags;	    /* OUTPUT_IN_PLACE */
	unsigned int label_flags;   /* LABEL_SHORT_PATHS, LABEL_NO_LINES */
	bool json;		    /* gil-wait: the table as JSON */
	/* mem: its own summary after the session's, and its checks after the
	 * profile is written (an exit status, 0 when they pass); NULL: none.
	 */
	void (*after_summary)(struct session *se, void *ctx);
	int (*check)(struct session *se, void *ctx);
	void *ctx;
};

/* The options the capture commands share (-p, -a, -m, -F, --no-children,
 * -d, -o, --format, -q, -v, --output-in-place, --as-root, --short-paths,
 * --no-lines; each command's getopt string says which it takes): getopt's
 * opt and arg into o and out. 0 when taken,
 * EXIT_USAGE after one error line, SESSION_NOT_COMMON when not one of them.
 */
/* -F's argument, samples per second per CPU (1 to SESSION_MAX_HZ), into
 * *hz: 0, or EXIT_USAGE after one error line. record, top, gil-wait, mem and
 * the agent read -F alike through it.
 */
int session__parse_hz(const char *arg, unsigned int *hz);

#define SESSION_NOT_COMMON (-1)
int session__parse_common(struct session_opts *o, struct session_output *out, int opt,
			  const char *arg, const char *cmd);

/* getopt_long returned '?': one error line naming the option (with_value:
 * the short options that take a value); EXIT_USAGE.
 */
int session__bad_option(char **argv, const char *cmd, const char *with_value);

/* Run a session over o to its end and write its profile as out says: the
 * output is opened (checked) before profiling, written atomically after,
 * with the summary on stderr. The exit status to return (CMD's when it ran
 * and all went well).
 */
int session__record(struct session_opts *o, struct session_output *out);

#endif
