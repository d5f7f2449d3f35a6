// SPDX-License-Identifier: GPL-2.0
/* The capture engine behind record and gil-wait: see include/session.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include "capture_api.h"
#include "folded.h"
#include "gilwait.h"
#include "memtrack.h"
#include "procfs.h"
#include "procmaps.h"
#include "profile.h"
#include "progress.h"
#include "python.h"
#include "pythreads.h"
#include "session_int.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwind.h"
#include "util.h"

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t got_sigchld;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig;
	got_sigchld = 1;
}

/* enum session_mode indexes profile_modes[], the modes' one vocabulary. */
_Static_assert(MODE_CPU == 0 && MODE_WALL == 1 && MODE_OFFCPU == 2 && MODE_GILWAIT == 3 &&
		   MODE_GIL == 4 && MODE_MEM == 5,
	       "enum session_mode follows profile_modes[]");
_Static_assert(MODE_ONCPU == 1u << KIND_CPU && MODE_BLOCKED == 1u << KIND_OFFCPU_BLOCKED &&
		   MODE_RUNNABLE == 1u << KIND_OFFCPU_RUNNABLE &&
		   MODE_GIL_WAIT == 1u << KIND_GIL_WAIT && MODE_MEM_GROW == 1u << KIND_MEM,
	       "a mode's measurements are enum sample_kind bits");

static const struct profile_mode *mode_row(const struct session *se)
{
	return &profile_modes[se->o.mode];
}

int session__mode_by_name(const char *name)
{
	const struct profile_mode *pm = profile__mode(!strcmp(name, "off-cpu") ? "offcpu" : name);
	int m = pm ? (int)(pm - profile_modes) : -1;

	/* gil-wait and mem are commands, not modes of record. */
	return m >= 0 && profile_modes[m].record ? m : -1;
}

const char *session__mode_name(enum session_mode m)
{
	return profile_modes[m].name;
}

const char *session__mode_unit(enum session_mode m)
{
	return profile_modes[m].unit;
}

/* What a sample or interval weighs in the output's unit: the mode's weight
 * rule (struct profile_mode).
 */
static uint64_t weight_of(struct session *se, const struct capture_sample *s)
{
	const struct profile_mode *pm = mode_row(se);
	bool counted = s->kind < 32 && (pm->weighs & 1u << s->kind);

	if (s->kind == KIND_CPU) {
		se->samples_cpu += s->count;
		if (!counted)
			return 0;
		return pm->sampled ? s->count : s->count * 1000000ULL / se->o.hz;
	}
	if (s->kind < 4)
		se->ns_by_kind[s->kind] += s->count;
	return counted ? (s->count + 500) / 1000 : 0;
}

/* The slice of the timeline CLOCK_MONOTONIC ns falls in. */
static uint32_t slice_of(const struct session *se, uint64_t ns)
{
	double sec = ns > se->origin_ns ? (ns - se->origin_ns) / 1e9 : 0;

	return se->o.slice_sec > 0 ? (uint32_t)(sec / se->o.slice_sec) : 0;
}

/* An interval that ended at split_end_ns (an interval still open at the
 * end, or one the kernel sent across a slice's end), ns long: its weight
 * over the slices it covers, in proportion, the parts adding up to weight.
 */
static void add_split(struct session *se, const uint32_t *frames, uint32_t n, uint64_t weight,
		      uint64_t ns)
{
	uint64_t end = se->split_end_ns, begin = end > ns ? end - ns : 0, done = 0;
	uint64_t width = (uint64_t)(se->o.slice_sec * 1e9);
	uint32_t first = slice_of(se, begin), last = slice_of(se, end ? end - 1 : 0);

	for (uint32_t k = first; k <= last && ns; k++) {
		uint64_t upto = k == last ? end : se->origin_ns + (uint64_t)(k + 1) * width;
		uint64_t share = (uint64_t)((double)weight * (double)(upto - begin) / (double)ns);

		if (k == last || share > weight)
			share = weight;
		if (share > done)
			profile__add_at(se->prof, frames, n, share - done, k);
		done = share > done ? share : done;
	}
}

static void add_marker(struct session *se, const struct capture_sample *s, uint64_t start_ns,
		       uint64_t end_ns);
static void add_short_wait(struct session *se, pid_t pid, uint32_t tid, uint32_t skind,
			   uint64_t start_ns, uint64_t end_ns, bool piece);

/* The marker kind of a wait of sample kind skind in this mode: 0, or -1
 * when the mode keeps no markers of it (gil-wait: GIL waits only; wall:
 * off-CPU time of both kinds; offcpu: blocked only).
 */
int session_marker_kind(const struct session *se, uint32_t skind, uint32_t *kind)
{
	if (skind == KIND_GIL_WAIT)
		*kind = MARKER_GIL_WAIT;
	else if (skind == KIND_OFFCPU_BLOCKED)
		*kind = MARKER_OFFCPU_BLOCKED;
	else if (skind == KIND_OFFCPU_RUNNABLE && se->o.mode == MODE_WALL)
		*kind = MARKER_OFFCPU_RUNNABLE;
	else
		return -1;
	return (se->o.mode == MODE_GILWAIT) == (skind == KIND_GIL_WAIT) ? 0 : -1;
}

/* m into the profile, counted for the summary, or dropped (counted too). */
static void keep_marker(struct session *se, const struct profile_marker *m)
{
	if (!profile__add_marker(se->prof, m)) {
		se->markers_dropped++;
		return;
	}
	if (m->flags & PROFILE_MARKER_MERGED) {
		se->merged_markers++;
		se->merged_waits += m->waits;
	} else {
		se->marked_waits++;
	}
	se->marked_ns += (uint64_t)(m->waited * 1e9 + 0.5);
}

/* python_only: unless pid surely runs no Python (procfs__no_python: a
 * process gone may have), it joins not_python, to be looked at again when
 * sampled after next_ns (0: at the next drain).
 */
static bool may_run_python(struct session *se, pid_t pid, bool maps, uint64_t next_ns)
{
	bool added;
	uint64_t *next;

	if (capture__has_python(se->cap, pid) || !procfs__no_python(pid, maps)) {
		u64map_del(&se->not_python, pid);
		return true;
	}
	next = u64map_slot(&se->not_python, pid, &added);
	se->not_python_procs += added;
	*next = next_ns;
	return false;
}

/* python_only: a sample of a process without Python is left out, counted;
 * one sampled after its next look is due is looked at by this drain.
 */
static bool left_out(struct session *se, const struct capture_sample *s)
{
	uint64_t *next = u64map_find(&se->not_python, s->pid);

	/* Its announcement may still be queued (the poll's budget): looked
	 * at now, unless the engine read it already.
	 */
	if (!next && !symbolizer__maps(se->sym, s->pid) && !python__checked(se->py, s->pid) &&
	    s->py_status == PY_NOT_PYTHON &&
	    !may_run_python(se, s->pid, true, mono_ns() + (uint64_t)(SESSION_RECHECK_SEC * 1e9)))
		next = u64map_find(&se->not_python, s->pid);
	if (!next)
		return false;
	/* BPF walked Python frames in it: a Python process after all. */
	if (s->py_status != PY_NOT_PYTHON) {
		u64map_del(&se->not_python, s->pid);
		return false;
	}
	se->not_python_samples += s->kind == KIND_CPU ? s->count : 1;
	if (*next != UINT64_MAX && se->last_drain_ns >= *next) {
		*next = UINT64_MAX; /* queued */
		grow_array((void **)&se->recheck, &se->recheck_cap, se->nrecheck + 1,
			   sizeof(*se->recheck));
		se->recheck[se->nrecheck++] = s->pid;
	}
	return true;
}

static void on_sample(const struct capture_sample *s, void *ctx)
{
	struct session *se = ctx;
	struct proc_name *pe;
	uint32_t frames[STACKS_MAX_FRAMES], n = 0;
	enum py_name unnamed;
	uint64_t weight;

	/* Before exec the child runs rampa-bpf's own code: not the target's. */
	if (se->child && s->pid == (__u32)se->child && !se->child_execed)
		return;
	if (se->o.python_only && left_out(se, s))
		return;
	weight = weight_of(se, s);
	if (s->kind == KIND_GIL_WAIT && se->gil)
		session_gil_behind(se, s);
	if (!weight)
		return;
	*u64map_slot(&se->tids, s->tid, NULL) = s->pid;
	if (s->ustack_lost)
		se->ustack_lost += s->count;
	if (s->kstack_lost)
		se->kstack_lost += s->count;

	if (s->kind == KIND_CPU && s->py_status != PY_NOT_PYTHON && s->py_status <= PY_MAP_FULL)
		se->py_samples[s->py_status] += s->count;
	else if (s->py_status == PY_NOT_PYTHON && s->kind != KIND_MEM) {
		/* Taken before the process was known to run Python (drained
		 * before its exec event, or before it was read): known now, or
		 * kept until it is (session_inspect_python).
		 */
		bool cpu = s->kind == KIND_CPU, known = python__describe(se->py, (pid_t)s->pid);

		if (known && cpu)
			se->py_before_found += s->count;
		else if (known)
			se->py_before_found_ns += s->count; /* ns */
		else
			*u64map_slot(cpu ? &se->pre_py_samples : &se->pre_py_ns, s->pid, NULL) +=
			    s->count;
	}

	pe = session_proc_entry(se, s->pid, false);
	frames[n++] = pe->frame;
	pe->weight += weight;
	if (s->kind == KIND_CPU)
		pe->samples += s->count;
	if (se->o.per_process)
		frames[n++] = session_proc_pid_frame(se, pe);
	n = stacks__build(se->stacks, s, frames, n, &unnamed);
	if (unnamed && s->kind == KIND_CPU) {
		se->py_unnamed[unnamed] += s->count;
		if (s->py_status == PY_OK)
			se->py_ok_unnamed += s->count;
	} else if (unnamed) {
		se->py_unnamed_other++;
	}
	/* Still open at the end: a marker from its start, cut at the end. */
	if (se->flush_end_ns && s->kind != KIND_CPU)
		add_marker(se, s, se->flush_end_ns > s->count ? se->flush_end_ns - s->count : 0,
			   se->flush_end_ns);
	if (se->split_end_ns && s->kind != KIND_CPU && se->o.slice_sec > 0) {
		add_split(se, frames, n, weight, s->count);
	} else {
		/* The kernel's slice: the drain's would be late on a loaded
		 * machine, its samples all in the slice it began.
		 */
		size_t at = profile__add_at(se->prof, frames, n, weight,
					    s->slice ? s->slice - 1 : se->stamp);

		for (uint32_t i = 0; i < s->ntimes; i++)
			profile__add_sample_time(
			    se->prof, at,
			    s->times[i] > se->start_ns ? (s->times[i] - se->start_ns) / 1e9 : 0);
	}
}

/* A real interval of s (off-CPU, GIL wait) from start_ns to end_ns as a
 * marker of the profile: its thread's frames and the frame it waited in.
 */
static void add_marker(struct session *se, const struct capture_sample *s, uint64_t start_ns,
		       uint64_t end_ns)
{
	struct profile_marker m = { .top = UINT32_MAX, .leaf = UINT32_MAX, .tid = s->tid };
	uint32_t frames[STACKS_MAX_FRAMES], n = 0, groups;
	struct proc_name *pe;
	enum py_name unnamed;

	if (se->o.marker_min_sec <= 0)
		return;
	/* Open at the end and short: merged like the others. */
	if (end_ns < start_ns + se->o.marker_min_sec * 1e9) {
		add_short_wait(se, s->pid, s->tid, s->kind, start_ns, end_ns, false);
		return;
	}
	if (se->child && s->pid == (__u32)se->child && !se->child_execed)
		return;
	if (session_marker_kind(se, s->kind, &m.kind))
		return;
	pe = session_proc_entry(se, s->pid, false);
	frames[n++] = pe->frame;
	if (se->o.per_process)
		frames[n++] = session_proc_pid_frame(se, pe);
	groups = n + (se->o.per_thread ? 1 : 0);
	n = stacks__build(se->stacks, s, frames, n, &unnamed);
	m.nframes = n < groups ? n : groups;
	memcpy(m.frames, frames, m.nframes * sizeof(*frames));
	/* The leaf: the innermost frame that is not wall mode's "[off-cpu]". */
	for (uint32_t i = n; i-- > groups;) {
		enum frame_kind k = profile__frame_kind(se->prof, frames[i]);

		if (m.leaf == UINT32_MAX && (k != FRAME_OFFCPU || i == groups))
			m.leaf = frames[i];
		if (k == FRAME_PY_USER || k == FRAME_PY_STDLIB || k == FRAME_PY_SITE) {
			m.top = frames[i];
			break;
		}
	}
	if (m.top == UINT32_MAX)
		m.top = m.leaf;
	m.start = start_ns > se->start_ns ? (start_ns - se->start_ns) / 1e9 : 0;
	m.end = end_ns > se->start_ns ? (end_ns - se->start_ns) / 1e9 : 0;
	m.waits = 1;
	m.waited = m.end - m.start;
	keep_marker(se, &m);
}

/* Short waits of one thread and kind in one slice, merged as they come. */
struct short_merge {
	uint32_t frames[3], nframes; /* as profile_marker's */
	uint32_t tid, kind;	     /* enum profile_marker_kind */
	uint32_t slice;
	uint32_t waits;
	uint64_t ns, first_ns, last_ns;
};

/* One marker of the short waits merged in sm, which is emptied. */
static void merge_out(struct session *se, struct short_merge *sm)
{
	struct profile_marker m = {
		.top = UINT32_MAX,
		.leaf = UINT32_MAX,
		.tid = sm->tid,
		.kind = sm->kind,
		.flags = PROFILE_MARKER_MERGED,
		.waits = sm->waits,
		.nframes = sm->nframes,
	};

	if (!sm->ns)
		return;
	memcpy(m.frames, sm->frames, sizeof(m.frames));
	m.start = sm->first_ns > se->start_ns ? (sm->first_ns - se->start_ns) / 1e9 : 0;
	m.end = sm->last_ns > se->start_ns ? (sm->last_ns - se->start_ns) / 1e9 : 0;
	m.waited = sm->ns / 1e9;
	keep_marker(se, &m);
	sm->ns = sm->waits = 0;
}

/* The slice short waits ending at ns are merged in: the timeline's, or
 * without one, slices of the default width, so that a merged marker stays
 * local (and the table holds only the threads of one slice).
 */
static uint32_t merge_slice(const struct session *se, uint64_t ns)
{
	double width = se->o.slice_sec > 0 ? se->o.slice_sec : SESSION_DEFAULT_SLICE_SEC;

	return ns > se->start_ns ? (uint32_t)((ns - se->start_ns) / 1e9 / width) : 0;
}

/* Merged markers out: all of them (at the end), or those of slices before
 * the current one (a drain), after which the table holds only threads still
 * waiting.
 */
static void merges_out(struct session *se, bool all)
{
	uint32_t now = merge_slice(se, mono_ns());
	size_t kept = 0;

	for (size_t i = 0; i < se->nmerges; i++) {
		struct short_merge *sm = &se->merges[i];

		if (all || sm->slice < now)
			merge_out(se, sm);
		else
			se->merges[kept++] = *sm;
	}
	se->nmerges = kept;
	u64map_free(&se->merging);
	for (size_t i = 0; i < kept; i++)
		*u64map_slot(&se->merging, (uint64_t)se->merges[i].tid << 2 | se->merges[i].kind,
			     NULL) = i + 1;
}

/* A wait under the marker length (or a piece of one), into its thread's
 * merged marker of its slice (merge_slice).
 */
static void add_short_wait(struct session *se, pid_t pid, uint32_t tid, uint32_t skind,
			   uint64_t start_ns, uint64_t end_ns, bool piece)
{
	uint32_t kind, slice;
	struct short_merge *sm;
	bool added;
	uint64_t *v;

	if (end_ns <= start_ns || session_marker_kind(se, skind, &kind))
		return;
	if (se->child && pid == se->child && !se->child_execed)
		return;
	slice = merge_slice(se, end_ns);
	v = u64map_slot(&se->merging, (uint64_t)tid << 2 | kind, &added);
	if (added) {
		struct proc_name *pe = session_proc_entry(se, pid, false);

		grow_array((void **)&se->merges, &se->merges_cap, se->nmerges + 1,
			   sizeof(*se->merges));
		sm = &se->merges[se->nmerges];
		*sm = (struct short_merge){ .tid = tid, .kind = kind, .slice = slice };
		sm->frames[sm->nframes++] = pe->frame;
		if (se->o.per_process)
			sm->frames[sm->nframes++] = session_proc_pid_frame(se, pe);
		if (se->o.per_thread)
			sm->frames[sm->nframes++] = stacks__thread_frame(se->stacks, pid, tid);
		*v = ++se->nmerges;
	}
	sm = &se->merges[*v - 1];
	if (sm->slice != slice) {
		merge_out(se, sm);
		sm->slice = slice;
	}
	if (!sm->ns) {
		sm->first_ns = start_ns;
		sm->last_ns = end_ns;
	}
	sm->first_ns = start_ns < sm->first_ns ? start_ns : sm->first_ns;
	sm->last_ns = end_ns > sm->last_ns ? end_ns : sm->last_ns;
	sm->ns += end_ns - start_ns;
	sm->waits += !piece;
}

static void on_short_wait(__u32 pid, __u32 tid, __u32 kind, __u64 start_ns, __u64 end_ns,
			  unsigned int flags, void *ctx)
{
	add_short_wait(ctx, (pid_t)pid, tid, kind, start_ns, end_ns, flags & SHORT_WAIT_PIECE);
}

static void on_interval(const struct capture_sample *s, __u64 start_ns, __u64 end_ns,
			unsigned int flags, void *ctx)
{
	struct session *se = ctx;

	if ((flags & INTERVAL_MARK) && se->o.marker_min_sec > 0)
		add_marker(se, s, start_ns, end_ns);
	else if (se->o.marker_min_sec > 0)
		add_short_wait(se, s->pid, s->tid, s->kind, start_ns, end_ns, false);
	/* Across a slice's end: not in the counts, its time goes to the
	 * slices it covers (counted in the drain, it would all go to the
	 * slice where it ended).
	 */
	if (flags & INTERVAL_UNCOUNTED) {
		se->split_end_ns = end_ns;
		on_sample(s, se);
		se->split_end_ns = se->flush_end_ns;
	}
}

/* An interval still open, into the caller's profile (se->open_into). */
static void on_open_interval(const struct capture_sample *s, void *ctx)
{
	struct session *se = ctx;
	uint32_t frames[STACKS_MAX_FRAMES], n = 0;
	enum py_name unnamed;
	uint64_t w = (s->count + 500) / 1000;

	if (!w || s->kind >= 32 || !(mode_row(se)->weighs & 1u << s->kind))
		return;
	if (se->child && s->pid == (__u32)se->child && !se->child_execed)
		return;
	frames[n++] = session_proc_entry(se, s->pid, false)->frame;
	if (se->o.per_process)
		frames[n++] = session_proc_pid_frame(se, session_proc_entry(se, s->pid, false));
	/* Named in the session's profile (names only: no weight goes there). */
	n = stacks__build(se->stacks, s, frames, n, &unnamed);
	for (uint32_t i = 0; i < n; i++)
		frames[i] =
		    profile__intern(se->open_into, profile__frame_name(se->prof, frames[i]));
	profile__add(se->open_into, frames, n, w);
}

void session__add_open_intervals(struct session *se, struct profile *into)
{
	if (!(mode_row(se)->attach & MODE_OFFCPU_KINDS))
		return;
	se->open_into = into;
	capture__offcpu_pending(se->cap, mono_ns(), on_open_interval, se);
	se->open_into = NULL;
}

/* Threads asleep when the run starts have no switch-out to catch. Done with
 * the hooks attached but before the window opens (capture__begin), so it
 * costs attach time, not window time, however many threads sleep: first all
 * of them get an open interval (a quick pass: one /proc read each), which
 * BPF counts from the window's start (a thread that runs before it closes
 * its entry, and its next switch-out takes its own stacks), then their
 * stacks are taken from memory and /proc. A thread that ran in between may
 * have slept elsewhere since: its first interval keeps a marker instead of
 * a stack that may be wrong.
 */
static void snapshot_sleepers(struct session *se, pid_t pid)
{
	struct sleeper {
		pid_t tid;
		int64_t run_ns;
		uint32_t slot; /* snapshot id */
	} *sl = NULL;
	size_t nsl = 0, cap = 0;
	struct py_stack *py;
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		char state = tid > 0 ? procfs__thread_state(pid, tid) : 0;
		int64_t run_ns;
		uint32_t id;
		int seeded;

		/* Asleep, in uninterruptible wait, or stopped (SIGSTOP, a
		 * debugger): off-CPU from the start, as any sleeper.
		 */
		if (state != 'S' && state != 'D' && state != 'T' && state != 't')
			continue;
		run_ns = procfs__thread_run_ns(pid, tid);
		id = stacks__snapshot_new(se->stacks);
		seeded = capture__offcpu_seed(se->cap, pid, tid, KIND_OFFCPU_BLOCKED, id, mono_ns(),
					      run_ns > 0 ? (uint64_t)run_ns : 0);
		if (seeded) {
			se->snapshot_failed += seeded < 0;
			continue;
		}
		se->snapshots++;
		p_debug("thread %d of %d asleep at the start (%c)", (int)tid, (int)pid, state);
		grow_array((void **)&sl, &cap, nsl + 1, sizeof(*sl));
		sl[nsl++] = (struct sleeper){ tid, run_ns, id };
	}
	closedir(dir);
	py = xmalloc(sizeof(*py));
	for (size_t i = 0; i < nsl; i++) {
		uint32_t frames[STACKS_MAX_FRAMES], n;

		n = stacks__sleeper(se->stacks, pid, sl[i].tid, py, frames);
		if (sl[i].run_ns < 0 || procfs__thread_run_ns(pid, sl[i].tid) != sl[i].run_ns) {
			n = 0;
			frames[n++] = profile__intern(
			    se->prof, "[asleep since before the run: woke before its "
				      "stack was taken]");
			se->snapshot_late++;
		}
		stacks__snapshot_set(se->stacks, sl[i].slot, frames, n);
	}
	free(py);
	free(sl);
}

/* Name now, while the process lives, what an open off-CPU interval will
 * need when it closes: at exit the target's memory is gone.
 */
static void warm_pending(const struct capture_sample *s, void *ctx)
{
	struct session *se = ctx;

	if (se->o.python_only && u64map_find(&se->not_python, s->pid))
		return;
	stacks__warm(se->stacks, s);
}

static bool exit_pending(const struct session *se, pid_t pid)
{
	for (size_t i = 0; i < se->nexited; i++)
		if (se->exited[i] == pid)
			return true;
	return false;
}

static void drop_code(pid_t pid, uint64_t addr, void *ctx)
{
	capture__forget_code(((struct session *)ctx)->cap, pid, addr);
}

static bool thread_exited(const struct u64map_slot *e, void *ctx)
{
	return exit_pending(ctx, (pid_t)e->val);
}

/* Every sample of a process that exited before a drain is resolved by it:
 * what was kept of the process goes now, so memory stays flat however many
 * processes come and go (-a, a forking server). Its frames' names stay in
 * the profile; its code objects' names go one drain later (in flight).
 */
static void forget_exited(struct session *se)
{
	/* Threads of the processes gone leave the TID set, counted. */
	if (se->nexited)
		se->tids_gone += u64map_del_if(&se->tids, thread_exited, se);
	for (size_t i = 0; i < se->nexited; i++) {
		pid_t pid = se->exited[i];

		symbolizer__forget(se->sym, pid);
		unwind__forget(se->unwind, pid);
		python__forget(se->py, pid);
		python__retire_codes(se->py, pid, drop_code, se);
		capture__set_python(se->cap, pid, NULL);
		pythreads__forget(se->pt, pid);
		stacks__forget_pid(se->stacks, pid);
		capture__forget_proc_comm(se->cap, pid);
		capture__code_free_detach(se->cap, pid);
		u64map_del(&se->code_free_tried, (uint32_t)pid);
		u64map_del(&se->pre_py_samples, (uint32_t)pid);
		u64map_del(&se->pre_py_ns, (uint32_t)pid);
		session_pending_remove(se, pid);
		u64map_del(&se->not_python, pid);
		u64map_del(&se->born, pid);
		/* Its name, samples and CPU time serve the summary; only -a,
		 * which may see processes without end, lets them go.
		 */
		if (se->o.system_wide)
			se->procs_gone += session_forget_proc_name(se, pid);
	}
	se->nexited = 0;
}

/* The samples counted so far, resolved against the maps and code names of
 * now. on_event's drains (an exec, a reused PID) take only this: a build
 * under -a execs hundreds of times a second, and re-reading every thread's
 * name each time kept the run from ever reaching its deadline.
 */
static void drain_samples(struct session *se)
{
	session_mem_process(se);
	uint64_t now = mono_ns();

	/* What comes now was collected since the last drain: its slice. */
	se->stamp = se->started ? slice_of(se, se->last_drain_ns) : 0;
	se->last_drain_ns = now;
	capture__drain(se->cap, on_sample, se);
	/* Set aside before this drain: no sample carries their ids now. */
	python__release_codes(se->py);
}

static void new_process(struct session *se, pid_t pid, const char *comm);

/* python_only: the processes without Python sampled after their next look
 * was due; one that maps a libpython now is read as a new process.
 */
static void recheck_not_python(struct session *se)
{
	for (size_t i = 0; i < se->nrecheck; i++) {
		pid_t pid = se->recheck[i];

		if (exit_pending(se, pid) || !u64map_find(&se->not_python, pid))
			continue;
		if (may_run_python(se, pid, true,
				   mono_ns() + (uint64_t)(SESSION_RECHECK_SEC * 1e9))) {
			se->not_python_found++;
			new_process(se, pid, NULL);
		}
	}
	se->nrecheck = 0;
}

void session__drain(struct session *se)
{
	pythreads__refresh(se->pt);
	drain_samples(se);
	recheck_not_python(se);
	capture__offcpu_pending(se->cap, 0, warm_pending, se);
	if (se->gil) {
		capture__gil_threads(se->cap, session_gil_thread_seen, se);
		/* The targets' threads while they live, so that each is named
		 * even when its first sign in BPF comes at its exit.
		 */
		for (int i = 0; i < se->o.npids; i++)
			if (python__gil(se->py, se->o.pids[i]))
				session_gil_threads_alive(se, se->o.pids[i]);
		if (se->child && se->child_execed && !se->child_exited &&
		    python__gil(se->py, se->child))
			session_gil_threads_alive(se, se->child);
		gilwait__names(se->gil, session_thread_name_of, se);
	}
	stacks__rename_threads(se->stacks);
	merges_out(se, false);
	/* gil-wait names threads of exited processes in its table at the end;
	 * a continuous run has no end table, and no end.
	 */
	if (!se->gil || se->o.continuous)
		forget_exited(se);
}

/* At a process's first code event, probe its code_dealloc (found from that
 * code object's type), so the walks stop reading code objects already
 * checked. Settled once per process image, after at most CODE_FREE_DONE
 * code events.
 */
#define CODE_FREE_DONE 64
static void hook_code_free(struct session *se, pid_t pid, uint64_t code)
{
	bool added;
	uint64_t dealloc, *tried = u64map_slot(&se->code_free_tried, (uint32_t)pid, &added);
	const struct proc_maps *maps;
	const struct map_entry *m;
	char path[PATH_MAX];
	int err;

	/* *tried: the code events looked at; CODE_FREE_DONE once settled. */
	if (!added && *tried >= CODE_FREE_DONE)
		return;
	if (added)
		*tried = 0;
	/* For the scheduler hook's walks only: attaching a uprobe at a
	 * process's first code event held up the events of a shell's short
	 * python children (t4002: half their samples had no Python frames).
	 */
	if (!(mode_row(se)->attach & MODE_OFFCPU_KINDS) ||
	    /* RAMPA_CODE_FREE_PROBE=0: read every code object (to compare). */
	    (getenv("RAMPA_CODE_FREE_PROBE") && !strcmp(getenv("RAMPA_CODE_FREE_PROBE"), "0"))) {
		*tried = CODE_FREE_DONE;
		return;
	}
	/* The process may not be read yet when its first code events are
	 * handled (they come on a ring, its first sample from a map), or the
	 * code object freed since: tried again at the next events, a few times.
	 */
	err = python__code_dealloc(se->py, pid, code, &dealloc);
	if (err == -EAGAIN && ++*tried < CODE_FREE_DONE)
		return;
	*tried = CODE_FREE_DONE;
	maps = !err ? symbolizer__maps(se->sym, pid) : NULL;
	m = maps ? proc_maps__find(maps, dealloc) : NULL;
	if (!m || !m->path[0] || m->deleted) {
		se->code_free_unprobed++;
		return;
	}
	/* The mapped file itself: its path may be the host's, not the root's
	 * (a chroot in a mount namespace of its own).
	 */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	err = capture__code_free_attach(se->cap, pid, path, dealloc - m->start + m->pgoff);
	if (err) {
		se->code_free_unprobed++;
		p_debug("PID %d: cannot probe code_dealloc in %s: %s", (int)pid, m->path,
			strerror(-err));
		return;
	}
	se->code_free_probed++;
}

static void on_code(const struct py_code_event *e, void *ctx)
{
	struct session *se = ctx;

	python__code_event(se->py, e);
	hook_code_free(se, (pid_t)e->pid, e->addr);
}

/* A process was read (maps, CPython): its samples are named at a drain
 * soon, while it most likely lives, even in a session that sleeps.
 */
static void process_read(struct session *se)
{
	double soon = now_sec() + DRAIN_INTERVAL_SEC;

	se->read_since_drain = true;
	if (se->started && se->next_drain > soon)
		se->next_drain = soon;
}

/* What the engine reads of a process at its first sample: maps, unwind
 * tables, CPython. comm: its name if known (the main thread's), else NULL.
 */
static void new_process(struct session *se, pid_t pid, const char *comm)
{
	bool unwinding;

	symbolizer__refresh(se->sym, pid);
	session_proc_entry_comm(se, pid, true, comm);
	/* Not for CMD before its exec: that is rampa-bpf's own image.
	 * Cached tables first, then the interpreter, then the tables
	 * to build, which take a while.
	 */
	unwinding = !se->child || pid != se->child || se->child_execed;
	if (unwinding)
		unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), false);
	if (!python__checked(se->py, pid))
		session_inspect_python(se, pid, true, false);
	if (unwinding)
		unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), true);
	if (se->o.on_process)
		se->o.on_process(pid, se->o.on_process_ctx);
	process_read(se);
}

/* Whether a process of the target tree still runs. Exits arrive as
 * events; /proc confirms, in case one was lost.
 */
static bool gone(const struct u64map_slot *e, void *ctx)
{
	(void)ctx;
	return !procfs__alive((pid_t)e->key, 0);
}

static void on_event(const struct capture_event *e, void *ctx)
{
	struct session *se = ctx;

	switch (e->type) {
	case EVENT_NEW_PROCESS:
		/* Its PID was used by a process that just exited: finish with that
		 * one first, so neither is resolved against the other's maps.
		 */
		if (exit_pending(se, e->pid)) {
			drain_samples(se);
			if (!se->gil)
				forget_exited(se);
		}
		se->nprocs++;
		/* Most processes of a machine run no Python: not read at all. */
		if (se->o.python_only &&
		    !may_run_python(se, e->pid, true,
				    mono_ns() + (uint64_t)(SESSION_RECHECK_SEC * 1e9)))
			break;
		/* The event's comm is the sampled thread's: the process's name
		 * only when that is the main thread.
		 */
		new_process(se, e->pid, e->tid == e->pid ? e->comm : NULL);
		break;
	case EVENT_EXEC:
		p_debug("PID %u exec'd %.16s", e->pid, e->comm);
		/* python_only: an image not named python, in a process not read
		 * yet, is looked at (for a libpython the loader maps) at its
		 * samples of the next drain, if any.
		 */
		if (se->o.python_only && !symbolizer__maps(se->sym, e->pid) &&
		    !python__checked(se->py, e->pid) && !may_run_python(se, e->pid, false, 0)) {
			se->execs_passed++;
			break;
		}
		/* Across the machine (-a, the agent), most execs are of programs
		 * no sample saw and that run no Python: they are read at their
		 * first sample, if any, not now.
		 */
		if (se->o.system_wide &&
		    !(mode_row(se)->attach & (MODE_GIL_WAIT | MODE_MEM_GROW)) &&
		    !symbolizer__maps(se->sym, e->pid) && !python__checked(se->py, e->pid) &&
		    !procfs__exe_named_python(e->pid)) {
			se->execs_passed++;
			break;
		}
		/* The new image's tables first (those in memory or in the disk
		 * cache: a millisecond), before the drain below: until then its
		 * native stacks are cut at the leaf. The BPF walker has no use
		 * for the old image's, and the drain does not read these.
		 */
		unwind__update(se->unwind, e->pid, NULL, false);
		/* Samples of the old image must resolve against the old maps,
		 * when they were read (else they are read now either way).
		 */
		if (!se->o.system_wide) {
			/* A tree's execs: a full drain, which also lets go of the
			 * processes that exited before it (a second's worth of a
			 * churning tree held at once grew the heap by kilobytes
			 * a process). The poll's budget bounds a flood of them.
			 */
			session__drain(se);
		} else if (symbolizer__maps(se->sym, e->pid)) {
			drain_samples(se);
		}
		/* The old image's pages went with it: MEM_EXEC, in order with
		 * its memory events (session_mem_process).
		 */
		if (se->child && e->pid == (__u32)se->child)
			se->child_execed = true;
		/* The new image maps its own libc. */
		if (se->mem && se->o.mem_precise)
			session_mem_probe(se, e->pid);
		symbolizer__refresh(se->sym, e->pid);
		session_proc_entry_comm(se, e->pid, true, e->comm);
		/* Its code names stay until its exit: code events come on a ring
		 * buffer of their own and may be ahead of this event (a chroot's
		 * shell execs python, which runs at once), so the new image's
		 * names may be in already.
		 */
		python__forget(se->py, e->pid);
		/* The probe was on the old image's code_dealloc. */
		capture__code_free_detach(se->cap, e->pid);
		u64map_del(&se->code_free_tried, e->pid);
		session_inspect_python(se, e->pid, true, true);
		unwind__update(se->unwind, e->pid, symbolizer__maps(se->sym, e->pid), true);
		if (se->o.on_process)
			se->o.on_process(e->pid, se->o.on_process_ctx);
		process_read(se);
		break;
	case EVENT_FORK:
		p_debug("following child %u of %u", e->pid, e->ppid);
		/* Across the machine (the agent), an entry named from /proc at
		 * every fork cost more than all else: made at its first sample.
		 */
		if (se->o.python_only && !u64map_find(&se->procs, e->pid)) {
			/* An exit the LRU seen map forgot: gone ones let go. */
			if (se->born.n >= SESSION_MAX_BORN)
				u64map_del_if(&se->born, gone, NULL);
			u64map_slot(&se->born, e->pid, NULL);
		} else
			session_proc_base(se, e->pid, true);
		if (!se->o.system_wide)
			u64map_slot(&se->tree, e->pid, NULL);
		/* Its parent's probes are the parent's alone. */
		if (se->mem && se->o.mem_precise)
			session_mem_probe(se, e->pid);
		/* The parent's mappings, so its parent's unwind tables: loaded
		 * now, its first faults are walked whole (not left to the first
		 * miss, 100 ms later at best: a child's growth comes at once).
		 * mem only: record's first sample of a process loads them, and
		 * a maps read per fork costs a forking shell's every command.
		 */
		if (se->mem && !se->o.system_wide) {
			symbolizer__refresh(se->sym, e->pid);
			unwind__update(se->unwind, e->pid, symbolizer__maps(se->sym, e->pid), true);
		}
		/* Named while it lives: a short child may be gone by the drain.
		 * Only a child that runs its parent's interpreter (BPF copied its
		 * description at the fork): not a shell's subshells.
		 */
		if (se->gil && capture__has_python(se->cap, e->pid)) {
			session_gil_threads_alive(se, e->pid);
			gilwait__names(se->gil, session_thread_name_of, se);
		}
		break;
	case EVENT_UNWIND_MISS:
		if (se->o.python_only && u64map_find(&se->not_python, e->pid))
			break;
		/* A library mapped since its tables were made (dlopen): perhaps a
		 * libpython, after the looks at its start.
		 */
		symbolizer__refresh(se->sym, e->pid);
		unwind__update(se->unwind, e->pid, symbolizer__maps(se->sym, e->pid), true);
		if (!python__checked(se->py, e->pid)) {
			session_inspect_python(se, e->pid, false, false);
			if (python__checked(se->py, e->pid) && se->o.on_process)
				se->o.on_process(e->pid, se->o.on_process_ctx);
		}
		break;
	case EVENT_EXIT:
		se->nexits++;
		if (se->mem) {
			uint64_t *bits = u64map_find(&se->mem_steady_t, e->pid);
			double t = now_sec() - se->start_ns / 1e9;

			if (bits)
				memcpy(&t, bits, sizeof(t));
			p_debug("mem: PID %u exited: its figures as at %.2f s%s", e->pid, t,
				bits ? "" : " (no RSS sample: now)");
			memtrack__exited(se->mem, e->pid, t);
		}
		u64map_del(&se->tree, e->pid);
		if (se->mem && se->o.mem_precise) {
			capture__alloc_detach(se->cap, e->pid);
			u64map_del(&se->mem_probed_exe, e->pid);
		}
		if (se->gil && !se->o.continuous)
			break;
		grow_array((void **)&se->exited, &se->exited_cap, se->nexited + 1,
			   sizeof(*se->exited));
		se->exited[se->nexited++] = e->pid;
		break;
	}
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* No SA_RESTART: the poll must return so the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
}

/* The status line on a terminal: what has been measured and lost so far. */
static void progress(struct session *se)
{
	struct session_counts c;
	char amount[32] = "";

	if (!progress__due())
		return;
	session__counts(se, &c);
	if (se->mem && se->curve.n) {
		char rss[32], peak[32];

		progress__show("rampa-bpf: %.0f s, RSS %s (peak %s), %" PRIu64
			       " process%s, %" PRIu64 " lost; Ctrl-C stops",
			       c.elapsed,
			       fmt_bytes(rss, sizeof(rss), se->curve.rss[se->curve.n - 1]),
			       fmt_bytes(peak, sizeof(peak), se->curve.peak), c.processes,
			       c.processes == 1 ? "" : "es", c.lost);
		return;
	}
	/* Time modes: the time measured, besides the samples that sample it. */
	if (!mode_row(se)->sampled)
		fmt_amount(amount, sizeof(amount), profile__total(se->prof),
			   session__mode_unit(se->o.mode));
	if (se->o.mode == MODE_GILWAIT)
		progress__show("rampa-bpf: %.0f s, %s waiting for the GIL in %" PRIu64
			       " process%s, %" PRIu64 " lost; Ctrl-C stops",
			       c.elapsed, amount, c.processes, c.processes == 1 ? "" : "es",
			       c.lost);
	else
		progress__show("rampa-bpf: %.0f s, %" PRIu64 " samples%s%s%s, %" PRIu64
			       " process%s, %" PRIu64 " thread%s, %" PRIu64 " lost; Ctrl-C stops",
			       c.elapsed, c.samples, amount[0] ? " (" : "", amount,
			       amount[0] ? ")" : "", c.processes, c.processes == 1 ? "" : "es",
			       c.threads, c.threads == 1 ? "" : "s", c.lost);
}

/* What each mode asks of capture: its BPF programs, from its row. */
static void capture_opts_for(const struct session *se, struct capture_opts *c)
{
	unsigned int a = mode_row(se)->attach;
	/* Off-CPU intervals across a slice's end are split between slices. */
	bool split = (a & MODE_OFFCPU_KINDS) && se->o.slice_sec > 0;

	*c = (struct capture_opts){
		.hz = se->o.hz,
		.system_wide = se->o.system_wide,
		.follow_forks = se->o.cmd != NULL || !se->o.no_children,
		.gil = a & MODE_GIL_WAIT,
		.gil_holders = a & MODE_GIL_HOLDERS,
		.no_sampling = !(a & MODE_ONCPU),
		.mem = a & MODE_MEM_GROW,
		.mem_fault_sample = se->o.mem_fault_sample,
		.mem_precise = (a & MODE_MEM_GROW) && se->o.mem_precise,
		.mem_sample_bytes = se->mem_sample_bytes,
		.on_mem = session_on_mem,
		.offcpu_kinds = a & MODE_OFFCPU_KINDS,
		.on_event = on_event,
		.on_code = on_code,
		.on_interval = se->o.marker_min_sec > 0 || split ? on_interval : NULL,
		.interval_min_ns = (uint64_t)(se->o.marker_min_sec * 1e9),
		.on_short_wait = se->o.marker_min_sec > 0 ? on_short_wait : NULL,
		.slice_ns = split ? (uint64_t)(se->o.slice_sec * 1e9) : 0,
		.timeline_ns = se->o.slice_sec > 0 ? (uint64_t)(se->o.slice_sec * 1e9) : 0,
		.sample_times = se->o.sample_times,
		.lazy_wakeup = se->o.sleep_idle,
		.ctx = (void *)se,
		.map_entries = se->o.map_entries,
	};
}

/* The targets given join the kernel's target set, with their descendants. */
static int add_targets(struct session *se)
{
	for (int i = 0; i < se->o.npids; i++) {
		pid_t pid = se->o.pids[i];

		if (capture__add_target(se->cap, pid,
					se->o.pid_starts[i] ? se->o.pid_starts[i] - 1 : 0))
			return -ENOSPC;
		/* Still the process named on the command line, now that the kernel
		 * watches its exit: had it gone before, its PID (free, or another
		 * process's) would stay in the targets.
		 */
		if (!se->o.pid_starts[i] || procfs__start_time(pid) != se->o.pid_starts[i]) {
			capture__remove_target(se->cap, pid);
			p_err("PID %d exited before profiling started (check it with 'ps -p %d')",
			      (int)pid, (int)pid);
			return -ESRCH;
		}
		u64map_slot(&se->tree, (uint32_t)pid, NULL);
		/* Before the first sample, so every sample can carry Python frames. */
		symbolizer__refresh(se->sym, pid);
		unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), true);
		session_inspect_python(se, pid, false, false);
		if ((mode_row(se)->attach & MODE_GIL_WAIT) && !python__gil(se->py, pid))
			p_warn("PID %d: %s", (int)pid,
			       python__describe(se->py, pid)
				   ? "its interpreter has no GIL set up yet; looking again"
				   : "no CPython with a GIL found in it: nothing to measure");
	}
	if (se->o.npids && !se->o.no_children)
		session_add_descendants(se);
	if (se->o.mode == MODE_MEM && se->o.mem_precise) {
		for (int i = 0; i < se->o.npids; i++)
			session_mem_probe(se, se->o.pids[i]);
		for (size_t i = 0; i < se->ndesc; i++)
			session_mem_probe(se, se->desc[i]);
	}
	/* -a: the interpreters already running, before the first sample (at
	 * their first sample, on a loaded machine, a short run could end
	 * before they were known: samples without Python frames). Others
	 * are read at their first sample.
	 */
	if (se->o.system_wide)
		session_inspect_all_processes(se, !(mode_row(se)->attach & MODE_GIL_WAIT));
	return 0;
}

static void print_start(struct session *se)
{
	char target[512];

	if (se->o.quiet)
		return;
	session__describe_target(se, target, sizeof(target));
	if (se->o.mode == MODE_GILWAIT)
		fprintf(stderr, "rampa-bpf: measuring GIL waits of %s", target);
	else if (se->o.mode == MODE_MEM && se->o.mem_precise)
		fprintf(stderr,
			"rampa-bpf: measuring memory growth of %s (precise: every allocation "
			"tracked, one in %" PRIu64 " bytes sampled with its stack)",
			target, se->mem_sample_bytes);
	else if (se->o.mode == MODE_MEM)
		fprintf(stderr,
			"rampa-bpf: measuring memory growth of %s (1 in %u anonymous write "
			"faults sampled)",
			target,
			se->o.mem_fault_sample ? se->o.mem_fault_sample : RAMPA_MEM_FAULT_SAMPLE);
	else if (!(mode_row(se)->weighs & MODE_ONCPU))
		/* Off-CPU time is measured at each switch, not sampled. */
		fprintf(stderr, "rampa-bpf: profiling %s (offcpu mode)", target);
	else
		fprintf(stderr, "rampa-bpf: profiling %s (%s mode, %u Hz)", target,
			session__mode_name(se->o.mode), se->o.hz);
	if (se->o.duration)
		fprintf(stderr, " for %g s", se->o.duration);
	if (se->o.output)
		fprintf(stderr, "; Ctrl-C stops and writes %s\n", se->o.output);
	else
		fprintf(stderr, "; Ctrl-C stops\n");
}

int session__start(struct session *se)
{
	struct capture_opts copts;
	char buf[64];
	int ret;

	/* First: a signal during attach (which takes a moment) still ends the
	 * run the documented way, with the profile written.
	 */
	install_signals();
	capture_opts_for(se, &copts);
	ret = capture__open(&se->cap, &copts);
	if (ret)
		return ret;
	/* RAMPA_UNWIND=fp: the kernel's frame-pointer walk only (to compare). */
	if (!getenv("RAMPA_UNWIND") || strcmp(getenv("RAMPA_UNWIND"), "fp"))
		se->unwind = unwind__new(se->cap);
	stacks__set_cfi(se->stacks, se->unwind != NULL);
	if (se->o.cmd) {
		uint64_t st;

		ret = spawn__child(se);
		if (ret)
			return ret;
		/* Stopped on its pipe: it exists, with its start time. */
		st = procfs__start_time(se->child);
		if (capture__add_target(se->cap, se->child, st ? st - 1 : 0))
			return -ENOSPC;
		u64map_slot(&se->tree, (uint32_t)se->child, NULL);
		/* mem: its memory counts from its exec on. --precise probes
		 * the libc it maps now (rampa-bpf's: a fork), which its new
		 * image most likely maps too: the probes stay across the
		 * exec and see its first malloc, before the exec's event
		 * could be handled here (that would miss its first
		 * milliseconds).
		 */
		if (se->mem) {
			capture__mem_hold(se->cap, se->child);
			if (se->o.mem_precise)
				session_mem_probe(se, se->child);
		}
	}
	ret = add_targets(se);
	if (ret)
		return ret;
	/* Kernel symbols take tens of ms to load: not while CMD's first
	 * events (its execs) wait to be handled, or a short program ends
	 * before its interpreter is known.
	 */
	if (se->o.cmd)
		symbolizer__kernel(se->sym, 0, buf, sizeof(buf));
	ret = capture__start(se->cap);
	if (ret)
		return ret;
	/* Before the window opens: thousands of sleeping threads took seconds
	 * under load, which came out of -d and stretched the window.
	 */
	if (mode_row(se)->attach & MODE_OFFCPU_KINDS) {
		for (int i = 0; i < se->o.npids; i++)
			snapshot_sleepers(se, se->o.pids[i]);
		for (size_t i = 0; i < se->ndesc; i++)
			snapshot_sleepers(se, se->desc[i]);
	}
	/* The CPU time used from here: read thread by thread, just before
	 * the window opens rather than inside it.
	 */
	for (int i = 0; i < se->o.npids; i++)
		session_proc_base(se, se->o.pids[i], false);
	for (size_t i = 0; i < se->ndesc; i++)
		session_proc_base(se, se->desc[i], false);
	if (se->child)
		session_proc_base(se, se->child, true);
	se->t_sampling = now_sec();
	se->start_ns = mono_ns();
	se->origin_ns = se->o.timeline_origin_ns && se->o.timeline_origin_ns <= se->start_ns
			    ? se->o.timeline_origin_ns
			    : se->start_ns;
	se->started = true;
	capture__begin(se->cap, se->start_ns, se->origin_ns);
	/* -d is a deadline: BPF stops counting at it, whatever the loop is
	 * doing then (a first drain naming thousands of threads took seconds
	 * under load), so the window is what -d says. gil-wait's waits are
	 * closed by the loader: its window ends when the loop stops.
	 */
	if (se->o.duration > 0 && !se->gil) {
		se->deadline_ns = se->start_ns + (uint64_t)(se->o.duration * 1e9);
		capture__end(se->cap, se->deadline_ns);
	}
	if (se->o.cmd) {
		ret = spawn__release(se);
		if (ret)
			return ret;
	}
	print_start(se);
	progress__enable(!se->o.quiet && !se->o.no_progress);
	/* Drain early and often at first: a short-lived process must have its
	 * code objects read while it lives; then once a second.
	 */
	se->drain_wait = 0.05;
	se->next_drain = se->start_ns / 1e9 + se->drain_wait;
	se->last_drain_ns = se->start_ns;
	se->next_cpu_read = se->start_ns / 1e9 + 0.1;
	if (se->mem) {
		session_mem_rss(se);
		se->next_rss = se->start_ns / 1e9 + MEM_RSS_INTERVAL_SEC;
	}
	return 0;
}

static bool tree_alive(struct session *se)
{
	u64map_del_if(&se->tree, gone, NULL);
	return se->tree.n > 0;
}

double session__next_wake(const struct session *se)
{
	double t = se->next_drain, now = now_sec();

	if (se->o.duration && se->start_ns / 1e9 + se->o.duration < t)
		t = se->start_ns / 1e9 + se->o.duration;
	if (se->npending && now + PY_RETRY_SEC < t)
		t = now + PY_RETRY_SEC;
	if (se->mem && se->next_rss < t)
		t = se->next_rss;
	if ((se->o.npids || se->child_exited) && se->next_cpu_read < t)
		t = se->next_cpu_read;
	return t;
}

int session__poll_fd(const struct session *se)
{
	return capture__poll_fd(se->cap);
}

double session__drained(const struct session *se)
{
	return se->last_drain_ns > se->origin_ns ? (se->last_drain_ns - se->origin_ns) / 1e9 : 0;
}

uint64_t session__origin_ns(const struct session *se)
{
	return se->origin_ns;
}

bool session__poll(struct session *se)
{
	return session__poll_for(se, se->o.poll_sec > 0 ? se->o.poll_sec : 0.1);
}

bool session__poll_for(struct session *se, double wait)
{
	/* -d counts from the instant every thread is accounted from. */
	double start = se->start_ns / 1e9, now = now_sec(), wake;

	if (stop_signal)
		return true;
	if (se->o.duration && now - start >= se->o.duration)
		return true;
	/* Up at the drain: a slice's end is stamped on time. */
	wake = session__next_wake(se);
	if (wake - now < wait)
		wait = wake > now ? wake - now : 0;
	capture__poll(se->cap, wait > 0 ? (int)(wait * 1000) + 1 : 0);
	session_retry_pending(se);
	now = now_sec();
	if (se->mem && now >= se->next_rss) {
		session_mem_rss(se);
		se->next_rss = now + MEM_RSS_INTERVAL_SEC;
	}
	if (now >= se->next_drain) {
		session__drain(se);
		if (se->drain_wait < DRAIN_INTERVAL_SEC)
			se->drain_wait = se->drain_wait * 2 > DRAIN_INTERVAL_SEC
					     ? DRAIN_INTERVAL_SEC
					     : se->drain_wait * 2;
		se->next_drain = now + se->drain_wait;
		/* Asleep until the slice's end when nothing new came. */
		if (se->o.sleep_idle && !se->read_since_drain &&
		    se->drain_wait >= DRAIN_INTERVAL_SEC)
			se->next_drain = now + SLEEP_IDLE_MAX_SEC;
		se->read_since_drain = false;
		if (se->o.slice_sec > 0) {
			/* The next slice's end, if sooner. */
			double origin = se->origin_ns / 1e9,
			       end = origin + (floor((now - origin) / se->o.slice_sec) + 1) *
						  se->o.slice_sec;

			if (end < se->next_drain)
				se->next_drain = end;
		}
		progress(se);
	}
	if (se->child && got_sigchld && !se->child_exited) {
		got_sigchld = 0;
		if (wait4(se->child, &se->child_status, WNOHANG, &se->child_rusage) == se->child) {
			se->child_exited = true;
			u64map_del(&se->tree, (uint32_t)se->child);
			capture__poll(se->cap, 0); /* its children's forks, if queued */
			if (!tree_alive(se)) {
				se->why = "command exited";
				return true;
			}
			if (!se->o.quiet)
				p_info(
				    "'%s' exited; profiling its %zu descendant%s still running until "
				    "they exit (Ctrl-C or -d to stop sooner)",
				    se->o.cmd[0], se->tree.n, se->tree.n == 1 ? "" : "s");
			se->tree_noted = true;
		}
	}
	if ((se->o.npids || se->child_exited) && now >= se->next_cpu_read) {
		bool any = false;

		se->next_cpu_read = now + 0.1;
		for (int i = 0; i < se->o.npids; i++)
			any |= procfs__alive(se->o.pids[i], se->o.pid_starts[i]);
		if (!any && !se->o.no_children && tree_alive(se)) {
			any = true;
			if (!se->tree_noted && se->o.npids && !se->o.quiet)
				p_info(
				    "the target%s exited; profiling %zu descendant%s still running "
				    "until they exit (Ctrl-C or -d to stop sooner)",
				    se->o.npids == 1 ? "" : "s", se->tree.n,
				    se->tree.n == 1 ? "" : "s");
			se->tree_noted = true;
		}
		if (!any) {
			se->why = se->child_exited ? "the command and its descendants exited"
				  : se->tree_noted && se->o.npids == 1
				      ? "the target and its descendants exited"
				  : se->tree_noted ? "the targets and their descendants exited"
				  : se->o.npids == 1
				      ? "the target exited; profile covers it from attach "
					"until then"
				      : "all targets exited";
			return true;
		}
	}
	return stop_signal != 0;
}

const char *session__why(const struct session *se)
{
	return se->why;
}

/* Events queued at the window's end, in budgets, for at most a second:
 * under a flood of new processes (-a on a busy build host) events keep
 * coming and the run must still end.
 */
static void poll_queued(struct session *se)
{
	uint64_t until = mono_ns() + 1000000000ull;

	while (capture__poll(se->cap, 0) == 1 && mono_ns() < until)
		;
}

void session__stop(struct session *se)
{
	if (!se->started || se->stopped)
		return;
	se->stopped = true;
	/* The window ends now for every thread: time after it is not counted. */
	se->end_ns = mono_ns();
	if (se->deadline_ns && se->end_ns > se->deadline_ns)
		se->end_ns = se->deadline_ns;
	capture__end(se->cap, se->end_ns);
	/* Forks still queued give their processes a start before the close. */
	poll_queued(se);
	session_processes_at_end(se);
	if (stop_signal) {
		se->why = stop_signal == SIGINT ? "interrupted" : "stopped by a signal";
		se->interrupted = stop_signal == SIGINT;
		if (se->child && !se->child_exited && stop_signal != SIGINT)
			kill(se->child, stop_signal);
	}
	progress__clear();
	progress__enable(false);
	/* Process events still queued, the last samples, then the intervals
	 * of threads still off-CPU, counted up to now.
	 */
	if (se->mem)
		session_mem_rss(se);
	poll_queued(se);
	session__drain(se);
	/* Targets that ended by themselves: their shutdown is no trend. When
	 * an interpreter's began is known once the last events are in.
	 */
	if (se->mem && se->why && !stop_signal)
		memcurve__cut_final_fall(&se->curve, MEM_RSS_STEP_BYTES,
					 se->mem_shutdown_pids.n ? se->mem_shutdown_t : -1);
	se->flush_end_ns = se->end_ns;
	se->split_end_ns = se->end_ns;
	capture__offcpu_flush(se->cap, se->end_ns, on_sample, se);
	/* What is still mapped of what the sampled faults brought in. */
	if (se->mem)
		memtrack__stacks(se->mem, session_mem_add_retained, se->prof);
	se->flush_end_ns = 0;
	se->split_end_ns = 0;
	merges_out(se, true);
	if (se->o.marker_min_sec > 0) {
		uint64_t st[STAT__MAX];

		/* Waits the rings could not carry: in the counts, in no marker. */
		capture__stats(se->cap, st);
		profile__markers_lost(se->prof, st[STAT_SHORT_WAITS_LOST] + st[STAT_INTERVALS_LOST],
				      st[STAT_SHORT_WAITS_LOST_NS] / 1e9);
	}
	python__release_codes(se->py); /* every sample is in */
	if (se->gil) {
		capture__gil_threads(se->cap, session_gil_thread_stats, se);
		for (int i = 0; i < se->o.npids; i++)
			if (python__gil(se->py, se->o.pids[i]))
				session_gil_threads_alive(se, se->o.pids[i]);
		gilwait__names(se->gil, session_thread_name_of, se);
	}
	session__set_meta(se);
}

double session__elapsed(const struct session *se)
{
	if (!se->started)
		return 0;
	return ((se->stopped ? se->end_ns : mono_ns()) - se->start_ns) / 1e9;
}

struct profile *session__profile(const struct session *se)
{
	return se->prof;
}

bool session__runs_python(const struct session *se, pid_t pid)
{
	return python__checked(se->py, pid);
}

struct profile *session__swap_profile(struct session *se, struct profile *fresh)
{
	struct profile *old = se->prof;
	struct proc_name *p;
	size_t it = 0;

	merges_out(se, true);
	while ((p = session__next_proc(se, &it))) {
		p->frame = profile__intern(fresh, p->name);
		p->pid_frame = 0;
	}
	stacks__set_profile(se->stacks, fresh);
	if (se->o.slice_sec > 0 && !profile__slice_sec(fresh))
		profile__set_timeline(fresh, se->o.slice_sec, 0);
	se->prof = fresh;
	return old;
}

void session__name_native(struct session *se, bool keep_addresses)
{
	struct proc_name *p;
	struct timespec t0, t1;
	size_t it = 0;

	if (!se->o.native_sites || se->o.lean_symbols)
		return;
	se->sites_stacks = profile__nstacks(se->prof);
	se->sites_bytes = profile__bytes(se->prof);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	stacks__name_sites(se->stacks, keep_addresses);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	se->sites_cpu_sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	se->sites_named = true;
	/* Frame ids are new: the processes' frames are found again. */
	while ((p = session__next_proc(se, &it))) {
		p->frame = profile__intern(se->prof, p->name);
		p->pid_frame = 0;
	}
}

struct gilwait *session__gil_table(const struct session *se)
{
	return se->gil;
}

void session__print_gil_table(struct session *se, FILE *f, bool json)
{
	if (se->gil)
		gilwait__print(se->gil, f, json, se->start_ns, se->end_ns, session_describe_python,
			       se);
}

struct session *session__new(const struct session_opts *o, struct profile *prof)
{
	struct session *se = xcalloc(1, sizeof(*se));
	struct stacks_opts so = {
		.per_thread = o->per_thread,
		.wall_markers = o->mode == MODE_WALL,
	};

	se->o = *o;
	se->t_invoked = now_sec();
	se->prof = prof;
	if (o->slice_sec > 0 && !profile__slice_sec(prof))
		profile__set_timeline(prof, o->slice_sec, 0);
	se->go_fd = se->err_fd = -1;
	if (profile_modes[o->mode].attach & MODE_GIL_WAIT)
		se->gil = gilwait__new();
	if (profile_modes[o->mode].attach & MODE_MEM_GROW) {
		se->mem = memtrack__new();
		se->kpageflags_fd = -1;
		se->pagemap_fd = -1;
		se->mem_sample_bytes =
		    o->mem_sample_bytes ? o->mem_sample_bytes : RAMPA_MEM_SAMPLE_BYTES;
		memcurve__init(&se->curve);
	}
	se->sym = symbolizer__new(NULL);
	if (o->lean_symbols)
		symbolizer__set_lean(se->sym);
	se->py = python__new();
	if (o->per_thread || (profile_modes[o->mode].attach & MODE_GIL_WAIT))
		se->pt = pythreads__new(se->py);
	se->stacks = stacks__new(prof, se->sym, se->py, se->pt, &so);
	stacks__set_sites(se->stacks, o->native_sites && !o->lean_symbols);
	return se;
}

int session__finish(struct session *se, int ret)
{
	if (!se->child)
		return ret;
	/* A profile failure wins; otherwise report like the command did. */
	if (!se->child_exited || se->tree.n)
		spawn__stop(se);
	if (ret)
		return ret;
	return WIFEXITED(se->child_status) ? WEXITSTATUS(se->child_status)
					   : 128 + WTERMSIG(se->child_status);
}

void session__free(struct session *se)
{
	if (!se)
		return;
	unwind__free(se->unwind);
	capture__close(se->cap);
	if (se->pt && pythreads__stats(se->pt)->threads_over)
		p_warn("thread names: %" PRIu64 " threads past the limit of %d per process are "
		       "shown by their names at first sight",
		       pythreads__stats(se->pt)->threads_over, PYTHREADS_MAX_THREADS);
	stacks__free(se->stacks);
	pythreads__free(se->pt);
	python__free(se->py);
	symbolizer__free(se->sym);
	u64map_free(&se->tids);
	u64map_free(&se->tree);
	u64map_free(&se->code_free_tried);
	u64map_free(&se->pre_py_samples);
	u64map_free(&se->pre_py_ns);
	u64map_free(&se->merging);
	free(se->merges);

	u64map_free(&se->not_python);
	u64map_free(&se->born);
	free(se->recheck);
	free(se->exited);
	free(se->pending);
	free(se->desc);
	free(se->tstates);
	gilwait__free(se->gil);
	memtrack__free(se->mem);
	memcurve__free(&se->curve);
	u64map_free(&se->mem_last);
	u64map_free(&se->mem_steady_t);
	u64map_free(&se->mem_shutdown_pids);
	u64map_free(&se->mem_probe_pending);
	u64map_free(&se->mem_probed_exe);
	if (se->o.mode == MODE_MEM && se->kpageflags_fd >= 0)
		close(se->kpageflags_fd);
	if (se->o.mode == MODE_MEM && se->pagemap_fd >= 0)
		close(se->pagemap_fd);
	free(se->mem_q);
	session_free_proc_names(se);
	if (se->go_fd >= 0)
		close(se->go_fd);
	if (se->err_fd >= 0)
		close(se->err_fd);
	free(se);
}

uint64_t session__gil_processes(const struct session *se)
{
	return se->gil_procs;
}

const struct session_opts *session__opts(const struct session *se)
{
	return &se->o;
}
