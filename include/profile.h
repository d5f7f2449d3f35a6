/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PROFILE_H
#define RAMPA_PROFILE_H

#include <stdio.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* An aggregated profile: interned frame names and distinct stacks (root
 * first) with a weight each. Writers read it; capture and readers fill it.
 */
struct profile;

struct profile_meta {
	const char *mode; /* a profile_modes[] name: "cpu", "wall"... */
	const char *unit; /* "samples", "microseconds" */
	char target[256]; /* what was profiled, for titles */
	double duration_sec;
	unsigned int hz;
	/* "command": a command profiled until it exited (fixed work); "attach":
	 * a window over running processes; NULL: unknown. diff's default
	 * comparison follows it.
	 */
	const char *window;
	/* Which grouping frames stacks carry under the root, in this order:
	 * PROFILE_GROUP_PROCESS ("NAME-PID", --per-process) and
	 * PROFILE_GROUP_THREAD ("NAME-TID", -T). groups_known is false for a
	 * profile from another tool or an older rampa-bpf: readers then guess
	 * (a "NAME-NUMBER" frame under the root is a thread).
	 */
	unsigned int groups;
	bool groups_known;
};

#define PROFILE_GROUP_PROCESS 1u
#define PROFILE_GROUP_THREAD  2u

/* The measurements a mode takes or weighs, one bit per enum sample_kind of
 * capture.h (session.c checks that they agree): on-CPU samples (the
 * perf-event sampler), time blocked and time runnable off-CPU (the
 * scheduler hook, per kind), GIL waits (the syscall hooks on the GIL's
 * futexes), memory growth (the memory programs).
 */
#define MODE_ONCPU	  (1u << 0)
#define MODE_BLOCKED	  (1u << 1)
#define MODE_RUNNABLE	  (1u << 2)
#define MODE_GIL_WAIT	  (1u << 3)
#define MODE_MEM_GROW	  (1u << 4)
#define MODE_OFFCPU_KINDS (MODE_BLOCKED | MODE_RUNNABLE)
/* attach only: the sampler keeps samples of threads holding the GIL. */
#define MODE_GIL_HOLDERS (1u << 8)

/* What a profile's counts measure: one row per mode, the vocabulary every
 * reader and writer uses (folded headers, titles, pprof sample types), and
 * what the capture engine does for it (session.c): a new mode is one row
 * here, its enum session_mode, and its BPF.
 */
struct profile_mode {
	const char *name;	/* in headers and on command lines: "cpu", "wall"... */
	const char *title;	/* in flame graph titles: "CPU", "Wall-clock"... */
	const char *unit;	/* what counts are when the profile does not say */
	const char *pprof_type; /* pprof's sample type (with unit) */
	const char *words;	/* what counts are, in words (top's header) */
	bool sampled;		/* counts are samples at hz (pprof's period: CPU ns) */
	bool record;		/* a --mode of record, top and agent (else a command's) */
	/* The BPF the engine attaches: MODE_* bits (the sampler, the
	 * scheduler hook with the off-CPU kinds it measures, the GIL's
	 * syscall hooks, the memory programs, MODE_GIL_HOLDERS).
	 */
	unsigned int attach;
	/* The weight rule: the measurements counted (MODE_* bits; others
	 * weigh 0); on-CPU samples count 1 each when sampled, else their
	 * period (1/hz) in microseconds; measured times count microseconds.
	 */
	unsigned int weighs;
};

extern const struct profile_mode profile_modes[];
extern const size_t profile_nmodes;

/* The row named name; NULL if none. */
const struct profile_mode *profile__mode(const char *name);

/* "cpu, wall, offcpu, gil-wait, gil or mem" (or, with record_only, the
 * modes record takes: "cpu, wall, offcpu or gil"), from the table, for error
 * messages; static storage.
 */
const char *profile__mode_list(bool record_only);
/* The --help lines of a mode option opt ("-m, --mode MODE"): one per mode
 * record takes, from the table, def marked as the default.
 */
void profile__usage_modes(FILE *f, const char *opt, const char *def);

struct profile *profile__new(void);
void profile__free(struct profile *p);
/* Bytes p holds (its arrays as allocated, names, modules; not the
 * allocator's own overhead): for the summary.
 */
size_t profile__bytes(const struct profile *p);
/* p takes with's contents (with is freed, p's old contents too): for a
 * profile rewritten whole while others hold the pointer to it.
 */
void profile__replace(struct profile *p, struct profile *with);

/* Native code: the file a frame's code is in, for formats that keep
 * addresses (pprof's Mapping). Addresses are link-time (the file's own,
 * whatever process mapped it where): [start, limit) is an executable part
 * of the file as mapped, at file offset offset.
 */
struct profile_module {
	char *path;	/* as the process mapped it */
	char *build_id; /* GNU build id in hex; "" when none */
	uint64_t start, limit, offset;
};
/* The id (from 1) of the module of m's path and build id, added when new
 * (m's strings are copied); a known one's range grows to hold m's.
 */
uint32_t profile__add_module(struct profile *p, const struct profile_module *m);
/* Module id, or NULL when there is no such id. */
const struct profile_module *profile__module(const struct profile *p, uint32_t id);
size_t profile__nmodules(const struct profile *p);
/* A frame of its own (never shared, as profile__add_unlisted) for the code
 * at link-time address addr of module: frames of one name at different
 * addresses stay apart, for pprof's locations. Its id is returned.
 */
uint32_t profile__add_native(struct profile *p, const char *name, uint32_t module, uint64_t addr);
/* Whether frame id is native code at a known address: *module, *addr. */
bool profile__frame_address(const struct profile *p, uint32_t id, uint32_t *module, uint64_t *addr);
/* Frame id of src as a frame of dst (interned, unlisted or native as it is
 * in src, with its kind): the new id. Called once per id: an unlisted or
 * native frame is copied anew each time.
 */
/* src's meta, timeline width (and bound) and counts of losses into dst,
 * for a rewrite of src.
 */
void profile__copy_meta(struct profile *dst, const struct profile *src);
uint32_t profile__copy_frame(struct profile *dst, const struct profile *src, uint32_t id);

/* The id of a frame name, added when new. Names are stored as valid UTF-8
 * without NUL, whatever bytes they come with (a target's memory, ELF files,
 * /proc): each ill-formed sequence or NUL is replaced by U+FFFD (utf8.h), so
 * every writer is fed valid text.
 */
uint32_t profile__intern(struct profile *p, const char *name);
/* The same for name[0..len), which need not be NUL-terminated. */
uint32_t profile__intern_len(struct profile *p, const char *name, size_t len);
/* How many of p's frame names had invalid UTF-8 replaced: a loss to report. */
size_t profile__invalid_utf8(const struct profile *p);
const char *profile__frame_name(const struct profile *p, uint32_t id);
size_t profile__nframes(const struct profile *p);
/* A frame of its own named name (made valid UTF-8), never shared with an
 * equal name interned before or after it: what profile__rename_frame()
 * does to it touches no other frame. Its id is returned.
 */
uint32_t profile__add_unlisted(struct profile *p, const char *name);

/* Give frame id a new name (valid UTF-8, as profile__intern would store it),
 * for names only known later, such as a thread's latest name. Stacks keep
 * the frame. If another frame already has that name, both keep it: writers
 * see two frames of one name.
 */
void profile__rename_frame(struct profile *p, uint32_t id, const char *name);

/* Add weight to the stack frames[0..n) (root first); its index (for
 * profile__stack, profile__add_slice). Weight added this way has no time:
 * in a profile with a timeline it is counted as untimed.
 */
size_t profile__add(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight);

/* Timelines: a profile may keep, besides each stack's weight, its weight
 * per time slice, slice k covering [k * width, (k + 1) * width) seconds
 * from the profile's start. Capture stamps what each drain brings with the
 * slice it belongs to; readers of formats that keep time read it back.
 *
 * Memory is bounded: at most max_cells (stack, slice) cells beyond one per
 * stack (16 bytes each; 0: PROFILE_MAX_SLICE_CELLS, 32 MiB). When a new cell
 * would pass the bound, the timeline is coarsened: slices twice as wide,
 * neighbours merged, no weight lost. profile__timeline_stats() counts it.
 */
#define PROFILE_MAX_SLICE_CELLS (1u << 21)

/* Give p (empty, or with no timed weight yet) a timeline of slices
 * slice_sec wide (> 0). Slice numbers given to profile__add_at and
 * profile__add_slice are in units of slice_sec, whatever coarsening did.
 */
void profile__set_timeline(struct profile *p, double slice_sec, size_t max_cells);
/* The width of p's slices now (coarsening doubles it), seconds; 0: p has
 * no timeline.
 */
double profile__slice_sec(const struct profile *p);
/* Slices 0..nslices-1 hold p's timed weight (in profile__slice_sec units). */
uint32_t profile__nslices(const struct profile *p);

/* profile__add, the weight also counted in slice (of slice_sec; no
 * timeline: the same as profile__add). Its stack's index.
 */
size_t profile__add_at(struct profile *p, const uint32_t *frames, uint32_t n, uint64_t weight,
		       uint32_t slice);
/* Weight of stack i, already added, counted in slice too (readers: a stack's
 * line, then its slices). Nothing without a timeline.
 */
void profile__add_slice(struct profile *p, size_t i, uint32_t slice, uint64_t weight);

/* Stack i of src's slices into stack at of dst, whose slices are as wide
 * as src's are now (profile__slice_sec); stack at's weight is added
 * already, by profile__add. For writers of a rewritten profile (labels):
 * the time axis is kept.
 */
void profile__copy_slices(struct profile *dst, size_t at, const struct profile *src, size_t i);

/* Stack i's slices with weight, latest first: *cursor = 0 before the
 * first call; false after the last. *slice is in profile__slice_sec units.
 */
bool profile__stack_slice(const struct profile *p, size_t i, uint32_t *cursor, uint32_t *slice,
			  uint64_t *weight);

struct profile_timeline_stats {
	size_t cells;		/* (stack, slice) cells in use */
	size_t max_cells;	/* the bound */
	unsigned int coarsened; /* times the slices were made twice as wide */
	uint64_t untimed;	/* weight added with no slice */
};
void profile__timeline_stats(const struct profile *p, struct profile_timeline_stats *st);

/* A new profile holding p's slices first..last (inclusive, in
 * profile__slice_sec units) renumbered from 0: frames, kinds and meta as
 * in p, duration the window's. Untimed weight is left out.
 */
struct profile *profile__window(const struct profile *p, uint32_t first, uint32_t last);

/* Markers: real intervals (a thread off-CPU, waiting for the GIL) with
 * their start and end, kept beside the weights for formats with a time axis
 * (gecko). Waits of capture__open's interval_min_ns or more are a marker
 * each; a thread's shorter waits are merged, one marker per time slice
 * (PROFILE_MARKER_MERGED) that says how many waits it holds and their total,
 * so that the markers hold every wait the weights have. At most
 * PROFILE_MAX_MARKERS a profile, the rest counted as dropped, with their
 * time.
 */
#define PROFILE_MAX_MARKERS 65536

enum profile_marker_kind {
	MARKER_OFFCPU_BLOCKED,	/* asleep: gave up the CPU */
	MARKER_OFFCPU_RUNNABLE, /* preempted, waiting for a CPU */
	MARKER_GIL_WAIT,	/* one futex wait of take_gil() */
	MARKER_KIND_MAX,
};

struct profile_marker {
	double start, end; /* seconds from the profile's start (its slice 0's) */
	/* The first frames of the interval's stack: the process and, when the
	 * profile has them, its grouping frames (profile_meta.groups).
	 */
	uint32_t frames[3];
	uint32_t nframes;
	uint32_t top;  /* innermost Python frame, else the leaf; UINT32_MAX: none */
	uint32_t leaf; /* the stack's leaf (kernel, native...); UINT32_MAX: none */
	uint32_t tid;
	uint32_t kind; /* enum profile_marker_kind */
	/* PROFILE_MARKER_MERGED: the thread's short waits in [start, end), not
	 * one interval: waits of them (pieces of longer waits besides), waited
	 * seconds in all. Else waits is 1 and waited end - start.
	 */
	uint32_t flags;
	uint32_t waits;
	double waited;
};

#define PROFILE_MARKER_MERGED 1u

/* Keep m (frame ids of p); false when p has PROFILE_MAX_MARKERS already:
 * m is counted as dropped.
 */
bool profile__add_marker(struct profile *p, const struct profile_marker *m);
/* The markers kept, in the order added; their number in *n. */
const struct profile_marker *profile__markers(const struct profile *p, size_t *n);
/* Markers not kept for want of room, or lost before they reached p
 * (profile__markers_lost), and the seconds of waits they held.
 */
uint64_t profile__markers_dropped(const struct profile *p);
double profile__markers_dropped_sec(const struct profile *p);
void profile__markers_lost(struct profile *p, uint64_t n, double sec);
/* src's markers into dst, frame ids through map (src id -> dst id; NULL:
 * the same ids), times shifted by -shift seconds, only those that end after
 * from and start before to (seconds, after the shift; cut to them).
 */
void profile__copy_markers(struct profile *dst, const struct profile *src, const uint32_t *map,
			   double shift, double from, double to);
const char *profile_marker__name(enum profile_marker_kind k);
/* The name of m in outputs: its kind's, said merged when it is. */
const char *profile_marker__label(const struct profile_marker *m);

/* Sample instants: for formats that order samples in time (gecko), the
 * instant of each on-CPU sample that was logged, seconds from the profile's
 * start, with its stack's index; at most PROFILE_MAX_SAMPLE_TIMES (16 bytes
 * each), the rest counted as dropped. A stack may have fewer instants than
 * samples (instants lost on the way): the others have none.
 */
#define PROFILE_MAX_SAMPLE_TIMES (1u << 20)

struct profile_sample_time {
	double t;
	uint32_t stack;
};

/* false when full: counted as dropped. */
bool profile__add_sample_time(struct profile *p, size_t stack, double t);
const struct profile_sample_time *profile__sample_times(const struct profile *p, size_t *n);
uint64_t profile__sample_times_dropped(const struct profile *p);
/* src's instants into dst, stack i of src being stack map[i] of dst. */
void profile__copy_sample_times(struct profile *dst, const struct profile *src, const size_t *map);

size_t profile__nstacks(const struct profile *p);
/* Stack i (0 <= i < nstacks): its frames and weight. */
const uint32_t *profile__stack(const struct profile *p, size_t i, uint32_t *n, uint64_t *weight);
uint64_t profile__total(const struct profile *p);

struct profile_meta *profile__meta(struct profile *p);
const struct profile_meta *profile__meta_ro(const struct profile *p);

/* What a frame is, from its name alone, for colouring and reports:
 * "name_[k]" is kernel (FlameGraph's convention); "func (file.c:LINE)" (a
 * C, C++, Rust, assembly... source file) is native; "qualname (path.py:LINE)" is
 * Python, split by its path into the standard library (under lib/python3.X/),
 * site-packages (site-packages or dist-packages anywhere) and user code;
 * "[...]" is synthetic, added by the profiler: time off-CPU ([off-cpu],
 * [runqueue], [asleep since before the run]) or a frame it could not name
 * ([unknown], truncation markers, [python stack lost], ...); [vdso] is
 * native code. Anything else is native.
 */
enum frame_kind {
	FRAME_PY_USER,
	FRAME_PY_STDLIB,
	FRAME_PY_SITE,
	FRAME_NATIVE,
	FRAME_KERNEL,
	FRAME_OFFCPU,
	FRAME_SYNTHETIC,
	FRAME_KIND_MAX,
};

enum frame_kind frame__kind(const char *name);
/* The kind of frame id of p: frame__kind of its name, unless set (a label
 * that no longer shows it, e.g. a shortened path).
 */
enum frame_kind profile__frame_kind(const struct profile *p, uint32_t id);
void profile__set_frame_kind(struct profile *p, uint32_t id, enum frame_kind k);
const char *frame_kind__name(enum frame_kind k);

/* Split "qualname (path:LINE)" into its parts; false when name has none.
 * qualname and file point into name (not NUL-terminated). "qualname
 * (path.py)", lines merged, is one too, with line 0. Native frames named
 * from DWARF ("func (file.c:LINE)") split the same way: frame__kind says
 * which is Python (a compiled language's source file is native).
 */
struct frame_py {
	const char *qualname, *file;
	size_t qualname_len, file_len;
	unsigned long line;
};
int frame__parse_python(const char *name, struct frame_py *out);

/* Per-thread stacks: with -T a frame under the root (after the process
 * frame of --per-process) is "threadname-TID". Its depth in stack
 * frames[0..n) (1 or 2), *tid getting TID; 0 when the stack has none.
 */
int profile__stack_thread(const struct profile *p, const uint32_t *frames, uint32_t n,
			  unsigned long *tid);
/* The same for the "NAME-PID" frame of --per-process: its depth (1), *pid
 * getting PID; 0 when none (or when the profile does not say it has them).
 */
int profile__stack_process(const struct profile *p, const uint32_t *frames, uint32_t n,
			   unsigned long *pid);
/* "name-NUMBER": true, *num gets NUMBER. */
int frame__is_thread(const char *name, unsigned long *num);

#endif
