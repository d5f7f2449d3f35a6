// SPDX-License-Identifier: GPL-2.0
/* What a session says of itself: the summary on stderr (what was measured,
 * against what the targets used, and every loss) and the profile's header.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "capture_api.h"
#include "profile.h"
#include "python.h"
#include "session_int.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwind.h"
#include "util.h"

/* CPU seconds the sampled processes used during the run: what each used by
 * the window's end, less what it had used before. -1 when a sampled process
 * has no known start (first seen mid-run, not a child of a target); *unknown
 * gets how many.
 */
static double sampled_cpu_seconds(struct session *se, int *unknown)
{
	struct proc_name *p;
	int64_t sum = 0;
	size_t it = 0;

	*unknown = 0;
	while ((p = session__next_proc(se, &it))) {
		if (!p->samples)
			continue;
		if (!p->base_known) {
			(*unknown)++;
			continue;
		}
		sum += (p->end_ns_used >= 0 ? p->end_ns_used : session__process_used_ns(se, p)) -
		       p->base_ns;
	}
	return *unknown ? -1 : sum / 1e9;
}

static size_t processes_with_samples(struct session *se)
{
	struct proc_name *p;
	size_t n = 0, it = 0;

	while ((p = session__next_proc(se, &it)))
		n += p->weight != 0;
	return n;
}

static int cmp_proc_samples(const void *a, const void *b)
{
	const struct proc_name *x = *(struct proc_name *const *)a,
			       *y = *(struct proc_name *const *)b;

	return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : x->pid - y->pid;
}

/* The processes that have samples, heaviest first: name, PID, weight. */
static void print_processes(struct session *se, const char *unit)
{
	struct proc_name **v = NULL, *p;
	size_t n = 0, cap = 0, it = 0;

	while ((p = session__next_proc(se, &it))) {
		if (p->weight) {
			grow_array((void **)&v, &cap, n + 1, sizeof(*v));
			v[n++] = p;
		}
	}
	/* -a lets exited processes go: they are counted, not listed. */
	if (n + se->procs_gone > 1) {
		size_t shown = n < PROCESSES_LISTED ? n : PROCESSES_LISTED;

		qsort(v, n, sizeof(*v), cmp_proc_samples);
		fprintf(stderr, "  processes     %zu with samples (%s):", n + se->procs_gone, unit);
		for (size_t i = 0; i < shown; i++)
			fprintf(stderr, "%s %s (PID %d) %" PRIu64, i ? "," : "", v[i]->name,
				(int)v[i]->pid, v[i]->weight);
		if (n + se->procs_gone > shown)
			fprintf(stderr, ", %zu more%s", n + se->procs_gone - shown,
				se->procs_gone ? " (exited ones not listed)" : "");
		fputc('\n', stderr);
	}
	free(v);
}

void session__describe_target(struct session *se, char *buf, size_t len)
{
	char name[64];
	size_t off = 0;

	if (se->o.system_wide) {
		snprintf(buf, len, "all processes");
		return;
	}
	if (se->o.cmd) {
		snprintf(buf, len, "'%s' (PID %d)", se->o.cmd[0], (int)se->child);
		return;
	}
	for (int i = 0; i < se->o.npids && off + 1 < len; i++) {
		/* The name seen at attach: the process may be gone by now. */
		snprintf(name, sizeof(name), "%s", session__proc(se, se->o.pids[i])->name);
		text_safe(name); /* a target line on stderr and in every format's title */
		off += snprintf(buf + off, len - off, "%sPID %d (%s)", i ? ", " : "",
				(int)se->o.pids[i], name);
	}
}

static void print_python_summary(struct session *se, const uint64_t *st)
{
	const struct stacks_stats *ss = stacks__stats(se->stacks);
	static const char *const causes[PY_NAME__MAX] = {
		[PY_NAME_UNREADABLE] = "code object unreadable",
		[PY_NAME_LOST] = "names not handed over: code event buffer full",
		[PY_NAME_UNKNOWN] = "names never received",
	};
	const struct python_stats *ps = python__stats(se->py);
	const uint64_t *c = se->py_samples;
	uint64_t running = c[PY_OK] + c[PY_TRUNCATED] + c[PY_READ_FAILED] + c[PY_MAP_FULL];
	uint64_t all = running + c[PY_NO_THREAD] + c[PY_NO_FRAME] + se->py_before_found;
	uint64_t whole = c[PY_OK] - (se->py_ok_unnamed < c[PY_OK] ? se->py_ok_unnamed : c[PY_OK]);

	if (!all && !se->py_before_found_ns)
		return;
	fprintf(stderr, "  python        %" PRIu64 " samples in Python processes; ", all);
	if (running)
		fprintf(stderr,
			"%.1f%% of those running Python code have the whole Python stack, every "
			"frame named\n",
			whole == running ? 100.0 : floor(1000.0 * whole / running) / 10);
	else
		fprintf(stderr, "none running Python code\n");
	if (se->py_before_found || se->py_before_found_ns) {
		fprintf(stderr, "    %-40s %" PRIu64,
			"before its interpreter was found: no Python frames", se->py_before_found);
		/* Off-CPU and GIL-wait stacks are time, not samples. */
		if (se->py_before_found_ns)
			fprintf(stderr, " (and %.3f s off-CPU or waiting)",
				se->py_before_found_ns / 1e9);
		fputc('\n', stderr);
	}
	if (c[PY_TRUNCATED])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "truncated (deeper than the limit)",
			c[PY_TRUNCATED]);
	if (c[PY_READ_FAILED])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "Python stack unreadable midway",
			c[PY_READ_FAILED]);
	if (c[PY_MAP_FULL])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "Python stack map full", c[PY_MAP_FULL]);
	for (int i = 1; i < PY_NAME__MAX; i++)
		if (se->py_unnamed[i])
			fprintf(stderr, "    %-40s %" PRIu64 " samples\n", causes[i],
				se->py_unnamed[i]);
	if (se->py_unnamed_other)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "off-CPU stacks with an unnamed frame",
			se->py_unnamed_other);
	if (c[PY_NO_THREAD] + c[PY_NO_FRAME])
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "in threads not running Python code",
			c[PY_NO_THREAD] + c[PY_NO_FRAME]);
	if (ss->spliced)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "native frames spliced at the eval loop",
			ss->spliced);
	if (ss->interp_leaf)
		fprintf(stderr, "    %-40s %" PRIu64 "\n",
			"interpreter's own leaf frames: self time", ss->interp_leaf);
	if (ss->leaf_only - ss->leaf_no_tables - ss->leaf_cut)
		fprintf(stderr, "    %-40s %" PRIu64 "\n",
			"C frames: leaf only (no frame pointers)",
			ss->leaf_only - ss->leaf_no_tables - ss->leaf_cut);
	if (ss->leaf_cut)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "C frames: leaf only, native walk cut",
			ss->leaf_cut);
	if (ss->leaf_no_tables)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "C frames: leaf only, no tables yet",
			ss->leaf_no_tables);
	fprintf(stderr,
		"    %-40s %" PRIu64 " named in the kernel at first sight, %" PRIu64
		" read from memory",
		"code objects", ps->code_events, ps->memory_reads);
	/* Their frames keep their names in the profile. */
	if (ps->codes_dropped)
		fprintf(stderr, "; %" PRIu64 " let go at exit or exec, %" PRIu64 " held at the end",
			ps->codes_dropped, ps->codes_held);
	fputc('\n', stderr);
	if (ps->names_cut + ps->labels_cut)
		fprintf(stderr, "    %-40s %" PRIu64 " names, %" PRIu64 " frame labels\n",
			"cut in the middle (too long)", ps->names_cut, ps->labels_cut);
	if (ps->lines_unknown)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "lines unknown: line table cut",
			ps->lines_unknown);
	if (ps->invalid_chars)
		fprintf(stderr, "    %-40s %" PRIu64 "\n", "characters not text, replaced (U+FFFD)",
			ps->invalid_chars);
	(void)st;
}

/* Every kind of loss the run counts: what, and how many. */
struct loss {
	const char *what;
	uint64_t n;
};
#define LOSSES_MAX 48

static int fill_losses(struct session *se, const uint64_t *st, const struct symbolizer_stats *ss,
		       struct loss *losses)
{
	const struct unwind_stats *us = unwind__stats(se->unwind);
	int nl = 0;

	losses[nl++] = (struct loss){ "user stack hash collisions", st[STAT_USTACK_COLLISION] };
	losses[nl++] = (struct loss){ "kernel stack hash collisions", st[STAT_KSTACK_COLLISION] };
	losses[nl++] = (struct loss){ "user stacks unreadable", st[STAT_USTACK_FAILED] };
	losses[nl++] = (struct loss){ "kernel stacks unreadable", st[STAT_KSTACK_FAILED] };
	losses[nl++] = (struct loss){ "stack map full", st[STAT_STACK_MAP_FULL] };
	losses[nl++] = (struct loss){ "samples dropped: count map full", st[STAT_COUNT_MAP_FULL] };
	losses[nl++] = (struct loss){ "process events lost", st[STAT_EVENTS_LOST] };
	losses[nl++] = (struct loss){ "process names not kept by the kernel: map full",
				      st[STAT_PROC_NAMES_FULL] };
	losses[nl++] =
	    (struct loss){ "children not followed: target map full", st[STAT_TARGETS_FULL] };
	losses[nl++] =
	    (struct loss){ "stacks evicted before drain", se->ustack_lost + se->kstack_lost };
	losses[nl++] = (struct loss){ "frames in no known mapping", ss->unmapped };
	losses[nl++] = (struct loss){ "frames in unreadable files", ss->no_file };
	losses[nl++] = (struct loss){ "inlined-call frames not shown: nested too deep",
				      ss->inline_dropped + stacks__stats(se->stacks)->inline_cut };
	losses[nl++] =
	    (struct loss){ "target files refused: not regular or too large", ss->files_refused };
	losses[nl++] = (struct loss){ "frame names with invalid UTF-8 (now U+FFFD)",
				      profile__invalid_utf8(se->prof) };
	losses[nl++] =
	    (struct loss){ "off-CPU intervals dropped: map full", st[STAT_OFFCPU_MAP_FULL] };
	losses[nl++] =
	    (struct loss){ "off-CPU stacks dropped: maps full", st[STAT_OFFCPU_STACK_FULL] };
	losses[nl++] = (struct loss){ "asleep at start but not accounted", se->snapshot_failed };
	losses[nl++] = (struct loss){ "asleep at start, stack not taken in time",
				      se->snapshot_late + st[STAT_OFFCPU_UNTAKEN] };
	losses[nl++] = (struct loss){ "Python frames unnamed: code object unreadable",
				      st[STAT_PY_CODE_UNREADABLE] };
	losses[nl++] =
	    (struct loss){ "Python frames unnamed: code event buffer full", st[STAT_PY_CODE_LOST] };
	losses[nl++] = (struct loss){ "Python frames unnamed: names never received",
				      se->py_unnamed[PY_NAME_UNKNOWN] };
	losses[nl++] =
	    (struct loss){ "Python stacks cut at unreadable memory", st[STAT_PY_READ_FAILED] };
	losses[nl++] = (struct loss){ "Python stacks lost: thread beyond the first 32768",
				      st[STAT_PY_THREADS_LIMIT] };
	losses[nl++] =
	    (struct loss){ "memory events lost: ring buffer full", st[STAT_MEM_EVENTS_LOST] };
	losses[nl++] =
	    (struct loss){ "memory fault stacks dropped: maps full", st[STAT_MEM_STACK_FULL] };
	losses[nl++] =
	    (struct loss){ "memory syscalls not followed: map full", st[STAT_MEM_CALLS_FULL] };
	losses[nl++] = (struct loss){ "allocations not tracked: block map full (--max-blocks)",
				      st[STAT_MEM_BLOCKS_FULL] };
	losses[nl++] = (struct loss){ "allocator calls not followed: call map full",
				      st[STAT_MEM_ALLOC_CALLS_FULL] };
	/* On-CPU samples of a process in its first moments: the unwinder had
	 * no tables for it yet (its Python frames stand over the leaf).
	 */
	losses[nl++] = (struct loss){ "native stacks not walked: no unwind tables yet",
				      stacks__stats(se->stacks)->leaf_no_tables };
	losses[nl++] = (struct loss){ "native stacks cut: address in no unwind table",
				      st[STAT_UNWIND_NO_TABLE] };
	losses[nl++] =
	    (struct loss){ "native stacks cut: CFI rule not followed", st[STAT_UNWIND_BAD_RULE] };
	losses[nl++] =
	    (struct loss){ "native stacks cut: stack unreadable", st[STAT_UNWIND_UNREADABLE] };
	losses[nl++] =
	    (struct loss){ "native stacks cut: deeper than 127 frames", st[STAT_UNWIND_DEPTH] };
	losses[nl++] = (struct loss){ "native stacks dropped: unwound stack map full",
				      st[STAT_UNWIND_STACK_FULL] };
	losses[nl++] =
	    (struct loss){ "unwind tables not loaded: table space full", us->not_loaded };
	losses[nl++] =
	    (struct loss){ "unwind tables: mappings past 256 a process", us->maps_dropped };
	losses[nl++] = (struct loss){ "unwind tables: processes past 512", us->procs_dropped };
	losses[nl++] =
	    (struct loss){ "markers dropped: more than 65536 a profile", se->markers_dropped };
	losses[nl++] =
	    (struct loss){ "intervals for markers or slices lost: ring full (counted whole)",
			   st[STAT_INTERVALS_LOST] };
	losses[nl++] = (struct loss){ "short waits in no marker: ring full (in the counts)",
				      st[STAT_SHORT_WAITS_LOST] };
	{
		uint64_t dropped, unmatched;

		capture__sample_time_losses(se->cap, &dropped, &unmatched);
		losses[nl++] = (struct loss){ "sample instants lost: ring buffer full",
					      st[STAT_SAMPLE_TIMES_LOST] };
		losses[nl++] = (struct loss){ "sample instants dropped: 65536 waiting", dropped };
		losses[nl++] =
		    (struct loss){ "sample instants not matched to their sample", unmatched };
		losses[nl++] = (struct loss){ "sample instants dropped: more than 1 Mi a profile",
					      profile__sample_times_dropped(se->prof) };
	}
	return nl;
}

void session__counts(struct session *se, struct session_counts *c)
{
	uint64_t st[STAT__MAX];
	struct loss losses[LOSSES_MAX];
	int nl;

	capture__stats(se->cap, st);
	nl = fill_losses(se, st, symbolizer__stats(se->sym), losses);
	*c = (struct session_counts){
		.elapsed = session__elapsed(se),
		.samples = se->samples_cpu,
		.processes = processes_with_samples(se) + se->procs_gone,
		.threads = se->tids.n + se->tids_gone,
		.exits = se->nexits,
		.symbol_files_dropped = symbolizer__stats(se->sym)->files_dropped,
		.frame_names_dropped = symbolizer__stats(se->sym)->cache_dropped,
		.not_python_procs = se->not_python_procs,
		.not_python_samples = se->not_python_samples,
	};
	if (se->unwind) {
		c->unwind_tables_evicted = unwind__stats(se->unwind)->evicted;
		c->unwind_files_forgotten = unwind__stats(se->unwind)->files_forgotten;
	}
	for (int i = 0; i < nl; i++)
		c->lost += losses[i].n;
}

void session__print_summary(struct session *se)
{
	double elapsed = session__elapsed(se);
	const char *why = se->why;
	const struct symbolizer_stats *ss = symbolizer__stats(se->sym);
	const struct unwind_stats *us = unwind__stats(se->unwind);
	uint64_t st[STAT__MAX];
	struct capture_prog_stats ps;
	struct rusage self;
	double cpu = -1, self_cpu;
	int cpu_unknown = 0;
	char target[512];
	bool any_loss = false;
	struct loss losses[LOSSES_MAX];
	int nl;

	capture__stats(se->cap, st);
	capture__prog_stats(se->cap, &ps);
	getrusage(RUSAGE_SELF, &self);
	self_cpu = self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 + self.ru_stime.tv_sec +
		   self.ru_stime.tv_usec / 1e6;
	if (!se->o.system_wide)
		cpu = sampled_cpu_seconds(se, &cpu_unknown);

	nl = fill_losses(se, st, ss, losses);

	if (se->o.quiet)
		return;
	session__describe_target(se, target, sizeof(target));
	fprintf(stderr, "rampa-bpf: profiled %s for %.2f s%s%s%s\n", target, elapsed,
		why ? " (" : "", why ? why : "", why ? ")" : "");
	if (se->o.mode == MODE_CPU)
		fprintf(stderr,
			"  mode          cpu: on-CPU samples at %u Hz per CPU; counts are samples "
			"(one sample = %.3g ms of CPU)\n",
			se->o.hz, 1000.0 / se->o.hz);
	else if (se->o.mode == MODE_WALL)
		fprintf(
		    stderr,
		    "  mode          wall: on-CPU samples at %u Hz (one = %.3g ms) plus measured "
		    "off-CPU time; counts are microseconds\n",
		    se->o.hz, 1000.0 / se->o.hz);
	else if (se->o.mode == MODE_GIL)
		fprintf(stderr,
			"  mode          gil: on-CPU samples at %u Hz of threads holding the GIL; "
			"counts are samples (%" PRIu64
			" samples of threads not holding it left out)\n",
			se->o.hz, st[STAT_GIL_NOT_HELD]);
	else if (se->o.mode == MODE_MEM && se->o.mem_precise) {
		char a[32], b[32], c[32];

		fprintf(stderr,
			"  mode          mem --precise: allocator probes (glibc) in %" PRIu64
			" process%s (%" PRIu64 " not probed); one allocation per %s on average "
			"sampled with its stack; counts are bytes allocated and not freed\n",
			se->mem_probed, se->mem_probed == 1 ? "" : "es", se->mem_unprobed,
			fmt_bytes(a, sizeof(a), se->mem_sample_bytes));
		fprintf(
		    stderr,
		    "  allocations   %" PRIu64 " tracked (%s), %" PRIu64
		    " freed (%s), %s not freed (exact counts, an interpreter's shutdown included); %" PRIu64
		    " sampled; %" PRIu64 " frees of blocks from before the probes\n",
		    st[STAT_MEM_ALLOCS], fmt_bytes(a, sizeof(a), st[STAT_MEM_ALLOC_BYTES]),
		    st[STAT_MEM_FREES], fmt_bytes(b, sizeof(b), st[STAT_MEM_FREE_BYTES]),
		    fmt_bytes(c, sizeof(c),
			      st[STAT_MEM_ALLOC_BYTES] > st[STAT_MEM_FREE_BYTES]
				  ? st[STAT_MEM_ALLOC_BYTES] - st[STAT_MEM_FREE_BYTES]
				  : 0),
		    st[STAT_MEM_ALLOC_SAMPLED], st[STAT_MEM_FREES_UNKNOWN]);
		fprintf(stderr,
			"  mappings      %" PRIu64 " anonymous mappings made outside the allocator "
			"(%s; pymalloc's arenas hold Python's small objects) tracked as blocks, by "
			"range: %" PRIu64 " resized by mremap, %" PRIu64
			" munmaps of other ranges (part of a "
			"mapping, several, untracked ones)\n",
			st[STAT_MEM_MAPS], fmt_bytes(a, sizeof(a), st[STAT_MEM_MAP_BYTES]),
			st[STAT_MEM_MAP_RESIZES], st[STAT_MEM_MAP_PARTS]);
	} else if (se->o.mode == MODE_MEM)
		fprintf(
		    stderr,
		    "  mode          mem: 1 in %u anonymous write faults sampled, each standing "
		    "for %u KiB; counts are bytes retained (%" PRIu64 " faults sampled)\n",
		    se->o.mem_fault_sample ? se->o.mem_fault_sample : RAMPA_MEM_FAULT_SAMPLE,
		    (se->o.mem_fault_sample ? se->o.mem_fault_sample : RAMPA_MEM_FAULT_SAMPLE) *
			(RAMPA_MEM_PAGE_BYTES / 1024),
		    st[STAT_MEM_FAULTS]);
	else /* measured, not sampled: offcpu, gil-wait */
		fprintf(stderr, "  mode          %s: measured %s; counts are %s\n",
			profile_modes[se->o.mode].name, profile_modes[se->o.mode].words,
			profile_modes[se->o.mode].unit);
	if (se->o.mode == MODE_WALL)
		fprintf(stderr,
			"  time          %.2f s on-CPU (sampled), %.2f s blocked, %.2f s runnable "
			"waiting for a CPU\n",
			(double)se->samples_cpu / se->o.hz,
			se->ns_by_kind[KIND_OFFCPU_BLOCKED] / 1e9,
			se->ns_by_kind[KIND_OFFCPU_RUNNABLE] / 1e9);
	else if (se->o.mode == MODE_OFFCPU)
		/* Runnable time is not measured in this mode: no figure for it. */
		fprintf(stderr,
			"  time          %.2f s on-CPU (sampled), %.2f s blocked (written); time "
			"waiting for a CPU is measured in wall mode only\n",
			(double)se->samples_cpu / se->o.hz,
			se->ns_by_kind[KIND_OFFCPU_BLOCKED] / 1e9);
	if (profile_modes[se->o.mode].attach & MODE_ONCPU)
		fprintf(stderr, "  samples       %" PRIu64 " on-CPU (%.1f per second)\n",
			se->samples_cpu, elapsed > 0 ? se->samples_cpu / elapsed : 0.0);
	if (se->o.mode == MODE_CPU || se->o.mode == MODE_WALL) {
		/* Samples are Poisson: 2 sigma is 2 sqrt(n) samples. */
		double got = (double)se->samples_cpu / se->o.hz,
		       err = 2 * sqrt(se->samples_cpu) / se->o.hz;

		/* Below 10 ms of CPU (one sample at 99 Hz) a percentage says
		 * nothing but the rounding of the CPU clock.
		 */
		if (cpu >= 0.01)
			fprintf(
			    stderr,
			    "  CPU time      %.2f s sampled (+-%.2f s) of %.2f s used by the sampled "
			    "processes (%.1f%%)\n",
			    got, err, cpu, 100.0 * got / cpu);
		else if (cpu >= 0 && !cpu_unknown)
			fprintf(stderr,
				"  CPU time      %.2f s sampled (+-%.2f s); the sampled processes "
				"used %.3f s, too little to compare\n",
				got, err, cpu);
		else if (cpu_unknown)
			fprintf(
			    stderr,
			    "  CPU time      %.2f s sampled; not compared: %d sampled process%s "
			    "ran before the run and %s not a target (CPU time since unknown)\n",
			    got, cpu_unknown, cpu_unknown == 1 ? "" : "es",
			    cpu_unknown == 1 ? "was" : "were");
	}
	if (se->snapshots || se->snapshot_failed || st[STAT_OFFCPU_UNTAKEN])
		fprintf(stderr,
			"  asleep        %" PRIu64 " threads asleep at the start, "
			"accounted from then\n",
			se->snapshots + st[STAT_OFFCPU_UNTAKEN]);
	if (st[STAT_OFFCPU_IN_UNREPORTED] || st[STAT_OFFCPU_OUT_UNREPORTED])
		fprintf(stderr,
			"  switches      %" PRIu64 " not reported by the kernel: time away worked "
			"out from CPU time (%" PRIu64 " with no stack)\n",
			st[STAT_OFFCPU_IN_UNREPORTED] + st[STAT_OFFCPU_OUT_UNREPORTED],
			st[STAT_OFFCPU_OUT_UNREPORTED]);
	if (se->o.mode != MODE_GILWAIT)
		fprintf(stderr,
			"  threads       %zu in %zu process%s (%" PRIu64 " of the processes "
			"exited)\n",
			se->tids.n + se->tids_gone, processes_with_samples(se) + se->procs_gone,
			processes_with_samples(se) + se->procs_gone == 1 ? "" : "es", se->nexits);
	print_processes(se, profile_modes[se->o.mode].sampled ? "samples" : "us");
	print_python_summary(se, st);
	/* Checked code objects are reused without reading them until freed. */
	if (se->code_free_probed + se->code_free_unprobed)
		fprintf(stderr,
			"  code frees    watched in %zu of %zu Python processes (%" PRIu64
			" code objects freed): a code object checked once is not read again "
			"until freed\n",
			se->code_free_probed, se->code_free_probed + se->code_free_unprobed,
			st[STAT_PY_CODE_FREED]);
	/* The scheduler hook's memo of each thread's last walk (py_memo). */
	if (st[STAT_PY_MEMO_IDS] + st[STAT_PY_MEMO_SAME])
		fprintf(stderr,
			"  switch-outs   %" PRIu64 " Python stacks were the thread's last one (not "
			"stored again), %" PRIu64
			" code ids taken from its last walk (no code object freed since)\n",
			st[STAT_PY_MEMO_SAME], st[STAT_PY_MEMO_IDS]);
	fprintf(stderr, "  stacks        %zu distinct, %zu frame names, %.1f MiB",
		profile__nstacks(se->prof), profile__nframes(se->prof),
		profile__bytes(se->prof) / 1048576.0);
	/* Native frames were kept by address until named whole. */
	if (se->sites_named)
		fprintf(stderr, " (by native address before naming: %zu stacks, %.1f MiB)",
			se->sites_stacks, se->sites_bytes / 1048576.0);
	fputc('\n', stderr);
	if (profile__slice_sec(se->prof) > 0) {
		struct profile_timeline_stats ts;

		profile__timeline_stats(se->prof, &ts);
		fprintf(stderr,
			"  timeline      %u slices of %g s, %zu (stack, slice) cells (%.1f MiB; "
			"bound %zu beyond one per stack)\n",
			profile__nslices(se->prof), profile__slice_sec(se->prof), ts.cells,
			ts.cells * 16 / 1048576.0, ts.max_cells);
		if (ts.coarsened)
			p_warn("timeline: the memory bound was reached; slices made %u times "
			       "wider, to %g s (no weight lost: --slice %g keeps the bound)",
			       1u << ts.coarsened, profile__slice_sec(se->prof),
			       profile__slice_sec(se->prof));
	}
	if (se->o.sample_times) {
		size_t nt;

		profile__sample_times(se->prof, &nt);
		fprintf(stderr,
			"  instants      %zu on-CPU samples with their instant (gecko orders them "
			"by it; at most %u)\n",
			nt, PROFILE_MAX_SAMPLE_TIMES);
	}
	if (se->o.marker_min_sec > 0) {
		uint64_t measured = 0;
		uint32_t kind;

		/* The markers against the waits the counts measured, kind by kind. */
		for (uint32_t k = KIND_OFFCPU_BLOCKED; k <= KIND_GIL_WAIT; k++)
			if (!session_marker_kind(se, k, &kind))
				measured += se->ns_by_kind[k];
		fprintf(stderr,
			"  markers       %" PRIu64 " waits of %g ms or more with their start and "
			"end, %" PRIu64 " markers merging %" PRIu64 " shorter waits (one a thread "
			"a slice); %.3f s of the %.3f s of waits measured (at most %u markers)\n",
			se->marked_waits, se->o.marker_min_sec * 1000, se->merged_markers,
			se->merged_waits, se->marked_ns / 1e9, measured / 1e9, PROFILE_MAX_MARKERS);
	}
	for (int i = 0; i < nl; i++) {
		if (!losses[i].n)
			continue;
		if (!any_loss)
			fprintf(stderr, "  losses\n");
		any_loss = true;
		fprintf(stderr, "    %-40s %" PRIu64 "\n", losses[i].what, losses[i].n);
	}
	if (!any_loss)
		fprintf(stderr, "  losses        none\n");
	/* Not losses: these frames are in the profile, named by their file. */
	/* With sites, no_symbol counts addresses (each named once), no_file
	 * frames in samples (looked up at each).
	 */
	if (se->sites_named && ss->no_symbol)
		fprintf(stderr,
			"  names         %" PRIu64 " native code address%s named file+offset (no "
			"symbol covers them)\n",
			ss->no_symbol, ss->no_symbol == 1 ? "" : "es");
	if (se->sites_named && ss->no_file)
		fprintf(stderr,
			"  names         %" PRIu64 " native frame%s named file+offset (the file "
			"could not be read)\n",
			ss->no_file, ss->no_file == 1 ? "" : "s");
	if (!se->sites_named && ss->no_file + ss->no_symbol)
		fprintf(stderr,
			"  names         %" PRIu64
			" native frame%s named file+offset (the file has "
			"no symbols%s)\n",
			ss->no_file + ss->no_symbol, ss->no_file + ss->no_symbol == 1 ? "" : "s",
			ss->no_file ? " or could not be read" : "");
	/* Not losses: where native names came from, and the cache's bound. */
	if (ss->srclines || ss->inlined || ss->cache_dropped) {
		fprintf(stderr,
			"  lines         %" PRIu64
			" native code addresses named with file:line from "
			"DWARF, %" PRIu64 " inlined-call frames; %" PRIu64
			" names let go at the cache's bound (named again when seen)",
			ss->srclines, ss->inlined, ss->cache_dropped);
		/* Named after the window: what that cost, out of the target's way. */
		if (se->sites_named)
			fprintf(stderr, "; named after the window in %.3f s of CPU",
				se->sites_cpu_sec);
		fputc('\n', stderr);
	}
	if (ss->files_dropped)
		fprintf(stderr,
			"  symbols       %" PRIu64 " file%s' symbol tables let go (mapped by no "
			"live process; read again if mapped again)\n",
			ss->files_dropped, ss->files_dropped == 1 ? "" : "s");
	if (se->not_python_procs)
		fprintf(stderr,
			"  not Python    %" PRIu64
			" processes ran no Python when looked at: not read, "
			"%" PRIu64 " samples and intervals of them left out; %" PRIu64
			" found to run it at a later look\n",
			se->not_python_procs, se->not_python_samples, se->not_python_found);
	if (se->execs_passed)
		fprintf(stderr,
			"  execs         %" PRIu64
			" execs of processes no sample had seen, not read "
			"then (read at their first sample)\n",
			se->execs_passed);
	if (unwind__stats(se->unwind)->files_forgotten)
		fprintf(stderr,
			"  unwind files  %" PRIu64 " files' build ids and segments let go (past %d "
			"known; read again if mapped again)\n",
			unwind__stats(se->unwind)->files_forgotten, UNWIND_FILES_MAX);
	fprintf(stderr, "  attach        %.0f ms from start to sampling\n",
		1000 * (se->t_sampling - se->t_invoked));
	/* Not losses: how native stacks were walked. */
	if (se->unwind) {
		char reuse[160] = "";

		/* Only the scheduler hook (wall, offcpu) reuses walks. */
		if (st[STAT_UNWIND_REUSED] + st[STAT_UNWIND_CHANGED] + st[STAT_UNWIND_NOT_KEPT])
			snprintf(reuse, sizeof(reuse),
				 ", %" PRIu64 " reused after checking their stack words (%" PRIu64
				 " found changed, %" PRIu64 " not kept)",
				 st[STAT_UNWIND_REUSED], st[STAT_UNWIND_CHANGED],
				 st[STAT_UNWIND_NOT_KEPT]);
		fprintf(stderr,
			"  unwinding     %" PRIu64 " stacks walked by CFI (%" PRIu64
			" frames by frame pointers)%s; tables of %" PRIu64 " files (%" PRIu64
			" from the disk cache), %" PRIu64
			" rows (%.1f MiB), built in %.0f ms; %" PRIu64
			" files without CFI; %" PRIu64 " tables evicted\n",
			st[STAT_UNWIND_WALKS], st[STAT_UNWIND_FP_FRAMES], reuse, us->files,
			us->cached, us->rows, us->rows * sizeof(struct unwind_row) / 1048576.0,
			us->build_ns / 1e6, us->no_cfi, us->evicted);
	} else {
		fprintf(stderr, "  unwinding     frame pointers only\n");
	}
	{
		/* Its CPU since it started, over the wall time since then
		 * (attach and the final drain included).
		 */
		double wall = now_sec() - (rampa_started_sec ? rampa_started_sec : se->t_invoked);

		fprintf(stderr, "  profiler CPU  %.3f s (%.2f%% of one core over its %.2f s)\n",
			self_cpu, wall > 0 ? 100.0 * self_cpu / wall : 0.0, wall);
	}
	/* The BPF programs run in the targets' own time: a cost to them that
	 * the profiler's CPU above does not show.
	 */
	if (ps.measured && ps.runs) {
		fprintf(stderr,
			"  BPF cost      %.3f s of CPU, taken from the threads it interrupts",
			ps.run_ns / 1e9);
		if (cpu >= 0.01)
			fprintf(stderr, " (%.1f%% of the %.2f s the targets used)",
				100.0 * ps.run_ns / 1e9 / cpu, cpu);
		if (ps.sampler_runs)
			fprintf(stderr, "; sampler %.1f us a sample",
				ps.sampler_ns / 1e3 / ps.sampler_runs);
		if (ps.switch_runs)
			fprintf(stderr, "; scheduler hook %.2f us a switch",
				ps.switch_ns / 1e3 / ps.switch_runs);
		fputc('\n', stderr);
	}
}

/* What the profile is, for the header or title of every format. */
void session__set_meta(struct session *se)
{
	double elapsed = session__elapsed(se);
	struct profile_meta *m = profile__meta(se->prof);
	char target[200];

	session__describe_target(se, target, sizeof(target));
	m->mode = session__mode_name(se->o.mode);
	m->unit = session__mode_unit(se->o.mode);
	snprintf(m->target, sizeof(m->target), "%s%s", target,
		 se->o.mode == MODE_GIL ? " (samples of threads holding the GIL)" : "");
	m->duration_sec = elapsed;
	/* Sampled at a rate: not GIL waits, off-CPU time or memory. */
	m->hz = se->o.mode == MODE_GILWAIT || se->o.mode == MODE_OFFCPU || se->o.mode == MODE_MEM
		    ? 0
		    : se->o.hz;
	m->window = se->o.cmd && se->child_exited ? "command" : "attach";
	m->groups = (se->o.per_process ? PROFILE_GROUP_PROCESS : 0) |
		    (se->o.per_thread ? PROFILE_GROUP_THREAD : 0);
	m->groups_known = true;
}
