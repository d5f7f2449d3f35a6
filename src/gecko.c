// SPDX-License-Identifier: GPL-2.0
/* The Firefox Profiler's gecko format: see include/gecko.h. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flamegraph.h"
#include "gecko.h"
#include "json_writer.h"
#include "u64map.h"
#include "util.h"

/* The Firefox Profiler's categories, one per frame kind (enum frame_kind). */
static const struct {
	const char *name, *color;
} categories[FRAME_KIND_MAX] = {
	[FRAME_PY_USER] = { "Python", "yellow" },
	[FRAME_PY_STDLIB] = { "Python standard library", "orange" },
	[FRAME_PY_SITE] = { "site-packages", "green" },
	[FRAME_NATIVE] = { "Native", "blue" },
	[FRAME_KERNEL] = { "Kernel", "red" },
	[FRAME_OFFCPU] = { "Off-CPU", "grey" },
	[FRAME_SYNTHETIC] = { "Not named", "purple" },
};

/* A thread: the stacks under a root frame and its thread frames. */
struct thread_key {
	uint32_t root, proc, thread; /* proc, thread: UINT32_MAX when absent */
};

/* Weight of a stack in a slice, for the time-ordered walk. */
struct entry {
	uint32_t thread; /* index into the threads */
	uint32_t slice;
	uint32_t stack;
	uint64_t weight;
};

/* A marker of the profile in a thread, for the walk by thread and time. */
struct mentry {
	uint32_t thread;
	uint32_t idx; /* into profile__markers() */
	double start;
};

static int cmp_mentry(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A sample as written: its stack in the thread and its time. */
struct gsample {
	double at;
	int64_t stack;
	size_t order; /* ties keep the order of the walk */
};

static int cmp_gsample(const void *a, const void *b)
{
	const struct gsample *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_time(const void *a, const void *b)
{
	const struct profile_sample_time *x = a, *y = b;

	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->slice != y->slice)
		return x->slice < y->slice ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

/* The instant at fraction frac of slice k (width wide), the last slice
 * ending at end (seconds; 0: a whole slice): a run stopped 0.05 s into its
 * last slice has that slice's samples in those 0.05 s, not after its end.
 */
static double slice_at(uint32_t k, double width, double end, double frac)
{
	double from = k * width, to = (k + 1) * width;

	if (end > from && end < to)
		to = end;
	return from + frac * (to - from);
}

/* The thread key of stack frames[0..n), and how many frames it takes:
 * the grouping frames the profile says it has (a "NAME-PID" process frame
 * alone is a process, not a thread), or, when it does not say (another
 * tool's), one "NAME-NUMBER" frame is a thread and two are a process and
 * its thread.
 */
static uint32_t thread_of(const struct profile *p, const uint32_t *fr, uint32_t n,
			  struct thread_key *k)
{
	const struct profile_meta *m = profile__meta_ro(p);

	k->root = fr[0];
	k->proc = k->thread = UINT32_MAX;
	if (m->groups_known) {
		uint32_t d = 1;

		if ((m->groups & PROFILE_GROUP_PROCESS) && d < n &&
		    frame__is_thread(profile__frame_name(p, fr[d]), NULL))
			k->proc = fr[d++];
		if ((m->groups & PROFILE_GROUP_THREAD) && d < n &&
		    frame__is_thread(profile__frame_name(p, fr[d]), NULL))
			k->thread = fr[d++];
		return d;
	}
	if (n >= 2 && frame__is_thread(profile__frame_name(p, fr[1]), NULL)) {
		if (n >= 3 && frame__is_thread(profile__frame_name(p, fr[2]), NULL)) {
			k->proc = fr[1];
			k->thread = fr[2];
			return 3;
		}
		k->thread = fr[1];
		return 2;
	}
	return 1;
}

/* Whether p's stacks carry "NAME-PID" process frames (said, or guessed as
 * thread_of guesses: two "NAME-NUMBER" frames under a root).
 */
static bool has_process_frames(const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);

	if (m->groups_known)
		return m->groups & PROFILE_GROUP_PROCESS;
	for (size_t i = 0; i < profile__nstacks(p); i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *fr = profile__stack(p, i, &n, &w);
		struct thread_key k;

		if (n && w && (thread_of(p, fr, n, &k), k.proc != UINT32_MAX))
			return true;
	}
	return false;
}

static int same_key(const struct thread_key *a, const struct thread_key *b)
{
	return a->root == b->root && a->proc == b->proc && a->thread == b->thread;
}

/* "name-123": 123, or -1. */
static long frame_number(const struct profile *p, uint32_t id)
{
	unsigned long v;

	return id != UINT32_MAX && frame__is_thread(profile__frame_name(p, id), &v) ? (long)v : -1;
}

/* A thread frame that names a process's main thread without its PID:
 * Python's "MainThread-TID", or the OS name of a main thread, the
 * process's own ("python3-TID" under "python3" or "python3-PID").
 */
static bool is_main_thread(const struct profile *p, uint32_t thread, uint32_t proc)
{
	const char *t = profile__frame_name(p, thread), *pr = profile__frame_name(p, proc);
	const char *dash = strrchr(t, '-'), *pdash = strrchr(pr, '-');
	size_t plen = pdash && frame__is_thread(pr, NULL) ? (size_t)(pdash - pr) : strlen(pr);

	if (!dash)
		return false;
	return (dash - t == 10 && !strncmp(t, "MainThread", 10)) ||
	       ((size_t)(dash - t) == plen && !strncmp(t, pr, plen));
}

/* One thread's tables, built as its samples are walked. */
struct gthread {
	struct u64map frames; /* profile frame id -> frame index + 1 */
	struct u64map stacks; /* (prefix + 1) << 32 | frame -> stack index + 1 */
	uint32_t *frame_ids;  /* frame index -> profile frame id */
	size_t nframes, frames_cap;
	struct {
		int64_t prefix; /* -1: none */
		uint32_t frame;
	} * stack_tab;
	size_t nstacks, stacks_cap;
};

static uint32_t gthread_frame(struct gthread *t, uint32_t id)
{
	bool added;
	uint64_t *v = u64map_slot(&t->frames, id, &added);

	if (added) {
		grow_array((void **)&t->frame_ids, &t->frames_cap, t->nframes + 1,
			   sizeof(*t->frame_ids));
		t->frame_ids[t->nframes] = id;
		*v = ++t->nframes;
	}
	return (uint32_t)(*v - 1);
}

/* The gecko stack of frames[skip..n) (root first) in t. */
static int64_t gthread_stack(struct gthread *t, const uint32_t *fr, uint32_t n, uint32_t skip)
{
	int64_t prefix = -1;

	for (uint32_t d = skip; d < n; d++) {
		uint32_t frame = gthread_frame(t, fr[d]);
		bool added;
		uint64_t *v = u64map_slot(&t->stacks, (uint64_t)(prefix + 1) << 32 | frame, &added);

		if (added) {
			grow_array((void **)&t->stack_tab, &t->stacks_cap, t->nstacks + 1,
				   sizeof(*t->stack_tab));
			t->stack_tab[t->nstacks].prefix = prefix;
			t->stack_tab[t->nstacks].frame = frame;
			*v = ++t->nstacks;
		}
		prefix = (int64_t)*v - 1;
	}
	return prefix;
}

static void gthread_free(struct gthread *t)
{
	u64map_free(&t->frames);
	u64map_free(&t->stacks);
	free(t->frame_ids);
	free(t->stack_tab);
}

static void write_meta(struct jsonw *jw, const struct profile *p, double interval_ms,
		       double per_sample, const char *desc, size_t ntimes)
{
	const struct profile_meta *m = profile__meta_ro(p);
	char product[600], per[64];

	snprintf(product, sizeof(product), "rampa-bpf %s", RAMPA_VERSION);
	jsonw__name(jw, "meta");
	jsonw__start_object(jw);
	jsonw__u64_field(jw, "version", 29);
	jsonw__float_field(jw, "interval", "%.6g", interval_ms);
	jsonw__u64_field(jw, "startTime", 0);
	jsonw__name(jw, "shutdownTime");
	jsonw__null(jw);
	jsonw__u64_field(jw, "processType", 0);
	jsonw__string_field(jw, "product", product);
	jsonw__string_field(jw, "misc", desc);
	jsonw__u64_field(jw, "stackwalk", 1);
	jsonw__name(jw, "debug");
	jsonw__bool(jw, false);
	jsonw__string_field(jw, "platform", "Linux");
	jsonw__name(jw, "symbolicated");
	jsonw__bool(jw, true);
	jsonw__name(jw, "categories");
	jsonw__start_array(jw);
	for (int k = 0; k < FRAME_KIND_MAX; k++) {
		jsonw__start_object(jw);
		jsonw__string_field(jw, "name", categories[k].name);
		jsonw__string_field(jw, "color", categories[k].color);
		jsonw__name(jw, "subcategories");
		jsonw__start_array(jw);
		jsonw__string(jw, "Other");
		jsonw__end_array(jw);
		jsonw__end_object(jw);
	}
	jsonw__end_array(jw);
	/* The Firefox Profiler's marker schema (the "data" form of gecko
	 * version 29, which its upgraders turn into "fields").
	 */
	jsonw__name(jw, "markerSchema");
	jsonw__start_array(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "name", GECKO_MARKER_TYPE);
	jsonw__name(jw, "display");
	jsonw__start_array(jw);
	jsonw__string(jw, "marker-chart");
	jsonw__string(jw, "marker-table");
	jsonw__string(jw, "timeline-overview");
	jsonw__end_array(jw);
	jsonw__string_field(jw, "chartLabel", "{marker.data.function}");
	jsonw__string_field(jw, "tooltipLabel", "{marker.name} in {marker.data.function}");
	jsonw__string_field(jw, "tableLabel",
			    "{marker.name} in {marker.data.function} (TID {marker.data.tid})");
	jsonw__name(jw, "data");
	jsonw__start_array(jw);
	{
		static const char *const fields[][3] = {
			{ "function", "Waited in (innermost Python frame, else the leaf)",
			  "string" },
			{ "leaf", "Leaf frame", "string" },
			{ "tid", "Thread ID", "integer" },
			/* A merged marker's span is longer than its waits. */
			{ "waits", "Waits (more than 1: short waits merged)", "integer" },
			{ "waited", "Time waited", "duration" },
		};

		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			jsonw__start_object(jw);
			jsonw__string_field(jw, "key", fields[i][0]);
			jsonw__string_field(jw, "label", fields[i][1]);
			jsonw__string_field(jw, "format", fields[i][2]);
			jsonw__end_object(jw);
		}
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__end_array(jw);
	/* What the samples measure, in the profile's own words. */
	jsonw__name(jw, "extra");
	jsonw__start_array(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "rampa-bpf");
	jsonw__name(jw, "entries");
	jsonw__start_array(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Mode");
	jsonw__string_field(jw, "format", "string");
	jsonw__string_field(jw, "value", m->mode ? m->mode : "cpu");
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "One sample stands for");
	jsonw__string_field(jw, "format", "string");
	snprintf(per, sizeof(per), "%.6g %s", per_sample, m->unit ? m->unit : "samples");
	jsonw__string_field(jw, "value", per);
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Time slice (s)");
	jsonw__string_field(jw, "format", "string");
	snprintf(per, sizeof(per), "%.6g", profile__slice_sec(p));
	jsonw__string_field(jw, "value", profile__slice_sec(p) > 0 ? per : "none (no timeline)");
	jsonw__end_object(jw);
	/* Said where it is read: the samples' instants are not measured. */
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Sample times");
	jsonw__string_field(jw, "format", "string");
	if (ntimes) {
		char what[200];

		snprintf(what, sizeof(what),
			 "on-CPU samples at their measured instants (%zu logged); the others "
			 "(off-CPU time, instants lost) spread evenly over their time slice",
			 ntimes);
		jsonw__string_field(jw, "value", what);
	} else {
		jsonw__string_field(jw, "value",
				    "spread evenly over their time slice, stack by stack: the "
				    "order within a slice is not known");
	}
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Processes");
	jsonw__string_field(jw, "format", "string");
	jsonw__string_field(
	    jw, "value",
	    has_process_frames(p)
		? "each process apart, with its PID"
		: "the profile has no NAME-PID frames: the processes of one name are "
		  "one, pid \"unknown (NAME)\"");
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Wait markers");
	jsonw__string_field(jw, "format", "string");
	jsonw__string_field(jw, "value",
			    "a wait of 1 ms or more is a marker; a thread's shorter waits are "
			    "merged, one marker a time slice whose waits and waited fields "
			    "say how many and how long in all");
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Wait markers dropped (over the bound, or lost)");
	jsonw__string_field(jw, "format", "integer");
	jsonw__u64_field(jw, "value", profile__markers_dropped(p));
	jsonw__end_object(jw);
	jsonw__start_object(jw);
	jsonw__string_field(jw, "label", "Wait time in dropped markers (ms)");
	jsonw__string_field(jw, "format", "string");
	snprintf(per, sizeof(per), "%.3f", profile__markers_dropped_sec(p) * 1000);
	jsonw__string_field(jw, "value", per);
	jsonw__end_object(jw);
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__end_array(jw);
	jsonw__end_object(jw);
}

/* The stringTable is the frames' names, then the marker kinds' names:
 * marker kind k is string nframes + k, merged nframes + MARKER_KIND_MAX + k.
 */
static void write_tables(struct jsonw *jw, const struct profile *p, const struct gthread *t)
{
	jsonw__name(jw, "stackTable");
	jsonw__start_object(jw);
	jsonw__name(jw, "schema");
	jsonw__start_object(jw);
	jsonw__u64_field(jw, "prefix", 0);
	jsonw__u64_field(jw, "frame", 1);
	jsonw__end_object(jw);
	jsonw__name(jw, "data");
	jsonw__start_array(jw);
	for (size_t i = 0; i < t->nstacks; i++) {
		jsonw__start_array(jw);
		if (t->stack_tab[i].prefix < 0)
			jsonw__null(jw);
		else
			jsonw__u64(jw, (uint64_t)t->stack_tab[i].prefix);
		jsonw__u64(jw, t->stack_tab[i].frame);
		jsonw__end_array(jw);
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);

	/* Frame i's location is string i. */
	jsonw__name(jw, "frameTable");
	jsonw__start_object(jw);
	jsonw__name(jw, "schema");
	jsonw__start_object(jw);
	jsonw__u64_field(jw, "location", 0);
	jsonw__u64_field(jw, "relevantForJS", 1);
	jsonw__u64_field(jw, "innerWindowID", 2);
	jsonw__u64_field(jw, "implementation", 3);
	jsonw__u64_field(jw, "line", 4);
	jsonw__u64_field(jw, "column", 5);
	jsonw__u64_field(jw, "category", 6);
	jsonw__u64_field(jw, "subcategory", 7);
	jsonw__end_object(jw);
	jsonw__name(jw, "data");
	jsonw__start_array(jw);
	for (size_t i = 0; i < t->nframes; i++) {
		struct frame_py py;
		int is_py = frame__parse_python(profile__frame_name(p, t->frame_ids[i]), &py);

		jsonw__start_array(jw);
		jsonw__u64(jw, i);
		jsonw__bool(jw, false);
		jsonw__u64(jw, 0);
		jsonw__null(jw);
		if (is_py && py.line)
			jsonw__u64(jw, py.line);
		else
			jsonw__null(jw);
		jsonw__null(jw);
		jsonw__u64(jw, (uint64_t)profile__frame_kind(p, t->frame_ids[i]));
		jsonw__u64(jw, 0);
		jsonw__end_array(jw);
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);

	jsonw__name(jw, "stringTable");
	jsonw__start_array(jw);
	for (size_t i = 0; i < t->nframes; i++)
		jsonw__string(jw, profile__frame_name(p, t->frame_ids[i]));
	for (int k = 0; k < MARKER_KIND_MAX; k++)
		jsonw__string(jw, profile_marker__name(k));
	for (int k = 0; k < MARKER_KIND_MAX; k++) {
		struct profile_marker m = { .kind = (uint32_t)k, .flags = PROFILE_MARKER_MERGED };

		jsonw__string(jw, profile_marker__label(&m));
	}
	jsonw__end_array(jw);
}

/* The thread's markers, me[0..n): real intervals, in time order. */
static void write_markers(struct jsonw *jw, const struct profile *p, const struct gthread *t,
			  const struct mentry *me, size_t n)
{
	static const char *const cols[] = { "name",  "startTime", "endTime",
					    "phase", "category",  "data" };
	size_t nm;
	const struct profile_marker *all = profile__markers(p, &nm);

	jsonw__name(jw, "markers");
	jsonw__start_object(jw);
	jsonw__name(jw, "schema");
	jsonw__start_object(jw);
	for (int i = 0; i < 6; i++)
		jsonw__u64_field(jw, cols[i], (uint64_t)i);
	jsonw__end_object(jw);
	jsonw__name(jw, "data");
	jsonw__start_array(jw);
	for (size_t i = 0; i < n; i++) {
		const struct profile_marker *m = &all[me[i].idx];
		bool merged = m->flags & PROFILE_MARKER_MERGED;
		const char *none = merged ? "[short waits merged: no stack kept]" : "[no stack]";

		jsonw__start_array(jw);
		jsonw__u64(jw, t->nframes + m->kind + (merged ? MARKER_KIND_MAX : 0));
		jsonw__float(jw, "%.3f", m->start * 1000);
		jsonw__float(jw, "%.3f", m->end * 1000);
		jsonw__u64(jw, 1); /* an interval */
		jsonw__u64(jw, m->kind == MARKER_GIL_WAIT ? FRAME_PY_USER : FRAME_OFFCPU);
		jsonw__start_object(jw);
		jsonw__string_field(jw, "type", GECKO_MARKER_TYPE);
		jsonw__string_field(jw, "function",
				    m->top != UINT32_MAX ? profile__frame_name(p, m->top) : none);
		jsonw__string_field(jw, "leaf",
				    m->leaf != UINT32_MAX ? profile__frame_name(p, m->leaf) : none);
		jsonw__u64_field(jw, "tid", m->tid);
		jsonw__u64_field(jw, "waits", m->waits);
		jsonw__float_field(jw, "waited", "%.3f", m->waited * 1000);
		jsonw__end_object(jw);
		jsonw__end_array(jw);
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
}

/* The threads seen so far: keys[0..*nthreads), found through ids. */
struct threads {
	struct u64map ids; /* (proc or root, thread) -> index + 1 */
	struct thread_key *keys;
	size_t n, cap;
};

/* The index of thread k, added when new. */
static size_t thread_index(struct threads *th, const struct thread_key *k)
{
	bool added;
	uint64_t *v = u64map_slot(
	    &th->ids, (uint64_t)(k->proc != UINT32_MAX ? k->proc : k->root) << 32 | k->thread,
	    &added);
	size_t t;

	if (!added && same_key(&th->keys[*v - 1], k))
		return *v - 1;
	for (t = 0; t < th->n && !same_key(&th->keys[t], k); t++)
		;
	if (t == th->n) {
		grow_array((void **)&th->keys, &th->cap, th->n + 1, sizeof(*th->keys));
		th->keys[th->n++] = *k;
	}
	if (added)
		*v = t + 1;
	return t;
}

int gecko__write(FILE *f, const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);
	const struct profile_mode *pm = profile__mode(m->mode);
	size_t ns = profile__nstacks(p), nent = 0, entcap = 0, nm;
	struct threads th = { U64MAP_INIT, NULL, 0, 0 };
	const struct profile_marker *markers = profile__markers(p, &nm);
	/* Logged instants by stack (tfirst[i] .. tfirst[i + 1]), in time order;
	 * tcur: the next one of each stack to give a sample.
	 */
	size_t ntimes, *tfirst = xcalloc(ns + 1, sizeof(*tfirst)), *tcur = NULL, ngs = 0, gcap = 0;
	const struct profile_sample_time *ptimes = profile__sample_times(p, &ntimes);
	struct profile_sample_time *times = NULL;
	struct gsample *gs = NULL;
	uint64_t timed_samples = 0, all_samples = 0;
	struct mentry *me = xcalloc(nm ? nm : 1, sizeof(*me));
	struct entry *ent = NULL;
	uint32_t *skip = xcalloc(ns ? ns : 1, sizeof(*skip));
	uint64_t *cum = xcalloc(ns ? ns : 1, sizeof(*cum)), *thread_samples;
	double width = profile__slice_sec(p), per, interval_ms, est = 0, end_sec;
	bool timeline = width > 0, sampled = pm ? pm->sampled : !strcmp(m->unit, "samples");
	uint64_t untimed = 0;
	char desc[512];
	struct jsonw *jw;

	/* What one sample stands for: a sample, or a sampling period of time. */
	interval_ms = m->hz ? 1000.0 / m->hz : 10.0;
	per = sampled ? 1 : interval_ms * 1000;
	if (m->unit && !strcmp(m->unit, "nanoseconds"))
		per *= 1000;
	for (size_t i = 0; i < ns; i++) {
		uint32_t n, cur = 0, slice;
		uint64_t w, sw, timed = 0;
		const uint32_t *fr = profile__stack(p, i, &n, &w);
		struct thread_key k;
		size_t t;

		if (!n || !w)
			continue;
		skip[i] = thread_of(p, fr, n, &k);
		t = thread_index(&th, &k);
		while (timeline && profile__stack_slice(p, i, &cur, &slice, &sw)) {
			grow_array((void **)&ent, &entcap, nent + 1, sizeof(*ent));
			ent[nent++] = (struct entry){ (uint32_t)t, slice, (uint32_t)i, sw };
			timed += sw;
		}
		if (!timeline) {
			grow_array((void **)&ent, &entcap, nent + 1, sizeof(*ent));
			ent[nent++] = (struct entry){ (uint32_t)t, 0, (uint32_t)i, w };
			timed = w;
		}
		untimed += w - timed;
		est += (double)timed / per;
	}
	if (est > GECKO_MAX_SAMPLES) {
		double scale = ceil(est / GECKO_MAX_SAMPLES);

		per *= scale;
		interval_ms *= scale;
		p_warn("gecko output: %.0f samples are too many for a browser; each sample stands "
		       "for %.6g %s",
		       est, per, m->unit ? m->unit : "samples");
	}
	if (untimed)
		p_warn("gecko output: %" PRIu64 " %s with no time slice left out of the time axis",
		       untimed, m->unit ? m->unit : "samples");
	if (!timeline)
		width = m->duration_sec > 0 ? m->duration_sec : est * interval_ms / 1000;
	if (!(width > 0))
		width = 1;
	/* The run ends inside its last slice: nothing is placed after its end. */
	end_sec = timeline && m->duration_sec > 0 &&
			  m->duration_sec > (profile__nslices(p) - 1) * width &&
			  m->duration_sec < profile__nslices(p) * width
		      ? m->duration_sec
		      : 0;
	if (nent)
		qsort(ent, nent, sizeof(*ent), cmp_entry);
	/* Instants only when a sample stands for one measured sample (not
	 * scaled, and a sampling period in wall mode).
	 */
	if (ntimes && m->hz &&
	    fabs(per - (sampled ? 1 : 1000000.0 / m->hz)) <= 1e-9 * (sampled ? 1 : per)) {
		times = xmalloc(ntimes * sizeof(*times));
		memcpy(times, ptimes, ntimes * sizeof(*times));
		qsort(times, ntimes, sizeof(*times), cmp_time);
		for (size_t i = 0; i < ntimes; i++)
			if (times[i].stack < ns)
				tfirst[times[i].stack + 1]++;
		for (size_t i = 0; i < ns; i++)
			tfirst[i + 1] += tfirst[i];
		tcur = xmalloc((ns ? ns : 1) * sizeof(*tcur));
		memcpy(tcur, tfirst, (ns ? ns : 1) * sizeof(*tcur));
	}
	/* Markers go to their thread (one with no sample too), in time order. */
	for (size_t i = 0; i < nm; i++) {
		struct thread_key k;

		/* None: a marker of no thread, sorted last and left out. */
		if (!markers[i].nframes) {
			me[i] = (struct mentry){ UINT32_MAX, (uint32_t)i, 0 };
			continue;
		}
		thread_of(p, markers[i].frames, markers[i].nframes, &k);
		me[i] = (struct mentry){ (uint32_t)thread_index(&th, &k), (uint32_t)i,
					 markers[i].start };
	}
	if (nm)
		qsort(me, nm, sizeof(*me), cmp_mentry);
	profile_meta__describe(m, desc, sizeof(desc));
	/* Each thread's samples, rounded as the threads' loop below will round
	 * them (per stack, in this order): a thread with none is not named its
	 * process's main thread.
	 */
	thread_samples = xcalloc(th.n ? th.n : 1, sizeof(*thread_samples));
	for (size_t i = 0; i < nent; i++) {
		uint64_t before = (uint64_t)((double)cum[ent[i].stack] / per);

		cum[ent[i].stack] += ent[i].weight;
		thread_samples[ent[i].thread] +=
		    (uint64_t)((double)cum[ent[i].stack] / per) - before;
	}
	memset(cum, 0, (ns ? ns : 1) * sizeof(*cum));

	jw = jsonw__new(f);
	jsonw__start_object(jw);
	jsonw__float_field(jw, "duration", "%.3f",
			   1000 * (timeline && end_sec > 0 ? end_sec
				   : timeline		   ? profile__nslices(p) * width
							   : width));
	jsonw__name(jw, "systemHost");
	jsonw__start_object(jw);
	jsonw__string_field(jw, "name", "Firefox");
	jsonw__end_object(jw);
	jsonw__name(jw, "profile");
	jsonw__start_object(jw);
	write_meta(jw, p, interval_ms, per, desc, times ? ntimes : 0);
	jsonw__name(jw, "libs");
	jsonw__start_array(jw);
	jsonw__end_array(jw);
	jsonw__name(jw, "pausedRanges");
	jsonw__start_array(jw);
	jsonw__end_array(jw);
	jsonw__name(jw, "processes");
	jsonw__start_array(jw);
	jsonw__end_array(jw);
	jsonw__name(jw, "threads");
	jsonw__start_array(jw);
	for (size_t e = 0, t = 0, mi = 0; t < th.n; t++) {
		struct gthread gt = { U64MAP_INIT, U64MAP_INIT, NULL, 0, 0, NULL, 0, 0 };
		const struct thread_key *k = &th.keys[t];
		long pid = frame_number(p, k->proc), tid = frame_number(p, k->thread);
		size_t end = e, mend = mi;
		char name[320];

		while (end < nent && ent[end].thread == t)
			end++;
		jsonw__start_object(jw);
		/* The process's main thread, or the whole process; not a thread
		 * with markers only: importers (speedscope's) open the first
		 * GeckoMain, and would show nothing.
		 */
		if (thread_samples[t] &&
		    (k->thread == UINT32_MAX || (pid >= 0 && pid == tid) ||
		     is_main_thread(p, k->thread, k->proc != UINT32_MAX ? k->proc : k->root)))
			jsonw__string_field(jw, "name", "GeckoMain");
		else
			jsonw__string_field(
			    jw, "name",
			    profile__frame_name(p, k->thread != UINT32_MAX ? k->thread
						   : k->proc != UINT32_MAX ? k->proc
									   : k->root));
		jsonw__string_field(jw, "processType", "default");
		if (k->proc != UINT32_MAX) {
			const char *pn = profile__frame_name(p, k->proc);

			snprintf(name, sizeof(name), "%.*s", (int)(strrchr(pn, '-') - pn), pn);
			jsonw__string_field(jw, "processName", name);
		} else {
			jsonw__string_field(jw, "processName", profile__frame_name(p, k->root));
		}
		/* The Firefox Profiler makes pid a string and groups threads by
		 * it. Without a process frame the PID is not known: "unknown
		 * (NAME)" keeps the processes of one name together (they are
		 * merged in the profile) and apart from the others. A thread
		 * that stands for all of its process's threads has no TID.
		 */
		if (pid >= 0) {
			jsonw__u64_field(jw, "pid", (uint64_t)pid);
		} else {
			snprintf(name, sizeof(name), "unknown (%s)",
				 profile__frame_name(p, k->root));
			jsonw__string_field(jw, "pid", name);
		}
		if (tid >= 0)
			jsonw__u64_field(jw, "tid", (uint64_t)tid);
		else
			jsonw__string_field(jw, "tid", "all threads");
		jsonw__u64_field(jw, "registerTime", 0);
		jsonw__name(jw, "unregisterTime");
		jsonw__null(jw);

		jsonw__name(jw, "samples");
		jsonw__start_object(jw);
		jsonw__name(jw, "schema");
		jsonw__start_object(jw);
		jsonw__u64_field(jw, "stack", 0);
		jsonw__u64_field(jw, "time", 1);
		jsonw__u64_field(jw, "eventDelay", 2);
		jsonw__end_object(jw);
		jsonw__name(jw, "data");
		jsonw__start_array(jw);
		/* Slice by slice: its samples spread evenly over it, stack by stack. */
		for (size_t s = e; s < end;) {
			size_t s_end = s;
			uint64_t nsamples = 0, j = 0;

			while (s_end < end && ent[s_end].slice == ent[s].slice) {
				struct entry *x = &ent[s_end++];
				uint64_t before = (uint64_t)((double)cum[x->stack] / per);

				cum[x->stack] += x->weight;
				/* Rounded per stack over its life: no stack's weight drifts. */
				x->weight = (uint64_t)((double)cum[x->stack] / per) - before;
				nsamples += x->weight;
			}
			for (size_t q = s; q < s_end; q++) {
				uint32_t n;
				uint64_t w;
				const uint32_t *fr = profile__stack(p, ent[q].stack, &n, &w);
				int64_t st = ent[q].weight
						 ? gthread_stack(&gt, fr, n, skip[ent[q].stack])
						 : -1;

				for (uint64_t r = 0; r < ent[q].weight; r++, j++) {
					uint32_t i = ent[q].stack;
					double at = slice_at(ent[s].slice, width, end_sec,
							     (j + 0.5) / (double)nsamples);

					/* The k-th sample of a stack at its k-th instant. */
					if (tcur && tcur[i] < tfirst[i + 1]) {
						at = times[tcur[i]++].t;
						timed_samples++;
					}
					all_samples++;
					grow_array((void **)&gs, &gcap, ngs + 1, sizeof(*gs));
					gs[ngs] = (struct gsample){ at, st, ngs };
					ngs++;
				}
			}
			s = s_end;
		}
		if (ngs)
			qsort(gs, ngs, sizeof(*gs), cmp_gsample);
		for (size_t i = 0; i < ngs; i++) {
			jsonw__start_array(jw);
			if (gs[i].stack < 0)
				jsonw__null(jw);
			else
				jsonw__u64(jw, (uint64_t)gs[i].stack);
			jsonw__float(jw, "%.3f", gs[i].at * 1000);
			jsonw__u64(jw, 0);
			jsonw__end_array(jw);
		}
		ngs = 0;
		jsonw__end_array(jw);
		jsonw__end_object(jw);
		for (mend = mi; mend < nm && me[mend].thread == t;)
			mend++;
		write_markers(jw, p, &gt, me + mi, mend - mi);
		mi = mend;
		write_tables(jw, p, &gt);
		jsonw__end_object(jw);
		gthread_free(&gt);
		e = end;
	}
	jsonw__end_array(jw);
	jsonw__end_object(jw);
	jsonw__end_object(jw);
	jsonw__free(jw);
	u64map_free(&th.ids);
	free(ent);
	free(th.keys);
	free(me);
	free(tfirst);
	free(tcur);
	free(times);
	free(gs);
	free(skip);
	free(cum);
	free(thread_samples);
	return ferror(f) ? -1 : 0;
}
