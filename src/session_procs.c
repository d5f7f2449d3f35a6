// SPDX-License-Identifier: GPL-2.0
/* The session's processes: names, CPU time, the tree under -p and -- CMD,
 * and which run CPython (inspected at first sight, retried while it starts).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
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

/* pid's entry, its name read at first sight and again with refresh (after
 * exec). A process already gone keeps the name read last, else takes the
 * name BPF kept for it (its comm at exec or first sample), else comm (the
 * kernel's name from an event, NULL if none), else "pid N".
 */
struct proc_name *session_proc_entry_comm(struct session *se, pid_t pid, bool refresh,
					  const char *comm)
{
	bool added;
	uint64_t *v = u64map_slot(&se->procs, (uint32_t)pid, &added);
	struct proc_name *p;
	char name[sizeof(p->name)];

	if (added) {
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		*v = (uint64_t)(uintptr_t)p;
		/* Forked during the run (python_only): its CPU time from 0. */
		if (u64map_del(&se->born, (uint32_t)pid)) {
			p->base_known = true;
			p->end_ns_used = -1;
		}
	} else {
		p = (struct proc_name *)(uintptr_t)*v;
		if (!refresh)
			return p;
	}
	if (procfs__comm(pid, name, sizeof(name)))
		memcpy(p->name, name, sizeof(name));
	else if (capture__proc_comm(se->cap, pid, name, sizeof(name)))
		memcpy(p->name, name, sizeof(name)); /* gone: what the kernel knew */
	else if (comm && comm[0])
		snprintf(p->name, sizeof(p->name), "%.*s", 15, comm);
	else if (added)
		memcpy(p->name, name, sizeof(name));
	else
		return p; /* gone: the name read last stands, and its frame */
	p->frame = profile__intern(se->prof, p->name);
	p->pid_frame = 0;
	return p;
}

struct proc_name *session_proc_entry(struct session *se, pid_t pid, bool refresh)
{
	return session_proc_entry_comm(se, pid, refresh, NULL);
}

/* pid's CPU time is counted from now (known_zero: it was created during the
 * run and has used none before it).
 */
void session_proc_base(struct session *se, pid_t pid, bool known_zero)
{
	struct proc_name *p = session_proc_entry(se, pid, false);
	int64_t ns = known_zero ? 0 : procfs__process_run_ns(pid);

	p->base_ns = ns < 0 ? 0 : ns;
	p->base_known = ns >= 0;
	p->end_ns_used = -1;
}

/* CPU time p has used in ns: its live threads now, plus those that exited
 * (kept by BPF at their exit).
 */
int64_t session__process_used_ns(struct session *se, const struct proc_name *p)
{
	int64_t live = procfs__process_run_ns(p->pid);

	return (live > 0 ? live : 0) + (int64_t)capture__exit_runtime(se->cap, p->pid);
}

/* The window closes: what every known process has used so far. */
void session_processes_at_end(struct session *se)
{
	struct proc_name *p;
	size_t it = 0;

	while ((p = session__next_proc(se, &it)))
		p->end_ns_used = p->base_known ? session__process_used_ns(se, p) : -1;
}

/* -p covers the process tree: the descendants alive now join the targets
 * (those forked later are followed by BPF).
 */
void session_add_descendants(struct session *se)
{
	pid_t *d;
	size_t n = procfs__descendants(se->o.pids, se->o.npids, &d);

	for (size_t i = 0; i < n; i++) {
		uint64_t st = procfs__start_time(d[i]);

		if (!st || capture__add_target(se->cap, d[i], st - 1))
			continue;
		grow_array((void **)&se->desc, &se->desc_cap, se->ndesc + 1, sizeof(*se->desc));
		se->desc[se->ndesc++] = d[i];
		u64map_slot(&se->tree, (uint32_t)d[i], NULL);
		symbolizer__refresh(se->sym, d[i]);
		unwind__update(se->unwind, d[i], symbolizer__maps(se->sym, d[i]), true);
		session_inspect_python(se, d[i], false, false);
		p_debug("following descendant %d of the targets", (int)d[i]);
	}
	free(d);
}

/* With --per-process: "name-PID" under the root, one tree per process. */
uint32_t session_proc_pid_frame(struct session *se, struct proc_name *p)
{
	char label[96];

	if (!p->pid_frame) {
		snprintf(label, sizeof(label), "%s-%d", p->name, (int)p->pid);
		p->pid_frame = profile__intern(se->prof, label);
	}
	return p->pid_frame;
}

/* True when the process let go had samples. */
bool session_forget_proc_name(struct session *se, pid_t pid)
{
	uint64_t *v = u64map_find(&se->procs, (uint32_t)pid);
	struct proc_name *p;
	bool had;

	if (!v)
		return false;
	p = (struct proc_name *)(uintptr_t)*v;
	had = p->weight != 0;
	free(p);
	u64map_del(&se->procs, (uint32_t)pid);
	return had;
}

void session_free_proc_names(struct session *se)
{
	struct proc_name *p;
	size_t it = 0;

	while ((p = session__next_proc(se, &it)))
		free(p);
	u64map_free(&se->procs);
}

struct proc_name *session__proc(struct session *se, pid_t pid)
{
	return session_proc_entry(se, pid, false);
}

/* gil-wait with no target: every CPython process running now. */
void session_inspect_all_processes(struct session *se, bool named_python)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	pid_t self = getpid();

	while (dir && (de = readdir(dir))) {
		pid_t pid = atoi(de->d_name);

		if (pid <= 0 || pid == self || (named_python && !procfs__exe_named_python(pid)))
			continue;
		symbolizer__refresh(se->sym, pid);
		if (named_python)
			unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), false);
		session_inspect_python(se, pid, false, false);
		if (named_python)
			unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), true);
	}
	if (dir)
		closedir(dir);
}

void session_pending_remove(struct session *se, pid_t pid)
{
	for (size_t i = 0; i < se->npending; i++) {
		if (se->pending[i].pid == pid) {
			se->pending[i] = se->pending[--se->npending];
			return;
		}
	}
}

/* Seconds since pid started (0 when unknown). */
static double process_age(pid_t pid)
{
	uint64_t start = procfs__start_time(pid);
	struct timespec ts;
	double age;

	if (!start || clock_gettime(CLOCK_BOOTTIME, &ts))
		return 0;
	age = ts.tv_sec + ts.tv_nsec / 1e9 - (double)(start - 1) / sysconf(_SC_CLK_TCK);
	return age > 0 ? age : 0;
}

/* What a process's executable mappings are, in one number: a look again
 * at the same ones finds no interpreter either.
 */
static uint64_t maps_signature(const struct proc_maps *maps)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; maps && i < maps->n; i++)
		h = (h ^ maps->entries[i].start ^ maps->entries[i].inode << 17) * 0x100000001b3ull;
	return maps ? h ^ maps->n : 0;
}

/* pid has been looked at for longer than PY_RETRY_FOR_SEC. */
static bool pending_expired(const struct session *se, pid_t pid, double now)
{
	for (size_t i = 0; i < se->npending; i++)
		if (se->pending[i].pid == pid)
			return now - se->pending[i].first > PY_RETRY_FOR_SEC;
	return false;
}

/* Look for CPython in pid; if absent, look again shortly: a libpython is
 * mapped by the dynamic loader after exec.
 */

void session_inspect_python(struct session *se, pid_t pid, bool retry, bool execed)
{
	struct py_proc proc;
	char why[512];
	double now = now_sec(), age;

	enum python_inspect found = python__inspect(se->py, se->sym, pid, &proc, why, sizeof(why));

	/* Read while the loader maps libpython (at exec, or a first sample
	 * then): looked at again while the process is young.
	 */
	if (found == PYTHON_NOT_READY) {
		if (retry && (execed || (process_age(pid) <= PY_RETRY_FOR_SEC &&
					 !pending_expired(se, pid, now)))) {
			capture__set_python(se->cap, pid, NULL);
			goto look_again;
		}
		python__set_unsupported(se->py, pid);
		found = PYTHON_UNSUPPORTED;
	}
	switch (found) {
	case PYTHON_FOUND:
		if (profile_modes[se->o.mode].attach & (MODE_GIL_WAIT | MODE_GIL_HOLDERS)) {
			/* The GIL exists once the interpreter is set up. */
			proc.gil = python__gil(se->py, pid);
			capture__set_python(se->cap, pid, &proc);
			if (!proc.gil)
				break;
			se->gil_procs++;
		} else {
			capture__set_python(se->cap, pid, &proc);
		}
		session_pending_remove(se, pid);
		p_debug("PID %d: %s", (int)pid, python__describe(se->py, pid));
		/* What it ran before it was found had no Python frames: said. */
		{
			uint64_t *n = u64map_find(&se->pre_py_samples, (uint32_t)pid);
			uint64_t *ns = u64map_find(&se->pre_py_ns, (uint32_t)pid);

			se->py_before_found += n ? *n : 0;
			se->py_before_found_ns += ns ? *ns : 0;
			u64map_del(&se->pre_py_samples, (uint32_t)pid);
			u64map_del(&se->pre_py_ns, (uint32_t)pid);
		}
		return;
	case PYTHON_UNSUPPORTED:
		session_pending_remove(se, pid);
		capture__set_python(se->cap, pid, NULL);
		if (se->unsupported_pid == pid && !strcmp(se->unsupported_why, why))
			return;
		se->unsupported_pid = pid;
		snprintf(se->unsupported_why, sizeof(se->unsupported_why), "%s", why);
		p_warn("PID %d: %s; %s", (int)pid, why,
		       se->o.mode == MODE_GILWAIT ? "its GIL waits cannot be measured"
						  : "its stacks are native only");
		return;
	case PYTHON_NONE:
	default:
		capture__set_python(se->cap, pid, NULL);
		break;
	}
look_again:
	if (!retry)
		return;
	if ((profile_modes[se->o.mode].attach & (MODE_GIL_WAIT | MODE_GIL_HOLDERS)) &&
	    python__describe(se->py, pid) && !python__gil(se->py, pid))
		p_debug("PID %d: interpreter not set up yet, looking again", (int)pid);
	for (size_t i = 0; i < se->npending; i++) {
		if (se->pending[i].pid == pid) {
			if (execed)
				se->pending[i].first = now;
			age = now - se->pending[i].first;

			if (age > PY_RETRY_FOR_SEC)
				session_pending_remove(se, pid);
			else
				se->pending[i].next =
				    now + (age < PY_RETRY_FAST_SEC ? PY_RETRY_SEC : age);
			return;
		}
	}
	/* Counted from the process's start: one that ran for longer has been
	 * through its loader (a later dlopen() comes as an unwind miss).
	 */
	age = execed ? 0 : process_age(pid);
	if (age > PY_RETRY_FOR_SEC)
		return;
	grow_array((void **)&se->pending, &se->pending_cap, se->npending + 1, sizeof(*se->pending));
	se->pending[se->npending++] =
	    (struct pending){ pid, now - age, now + PY_RETRY_SEC,
			      maps_signature(symbolizer__maps(se->sym, pid)) };
}

void session_retry_pending(struct session *se)
{
	double now = now_sec();

	for (ssize_t i = (ssize_t)se->npending - 1; i >= 0; i--) {
		if ((size_t)i < se->npending && now >= se->pending[i].next) {
			pid_t pid = se->pending[i].pid;
			bool known = python__checked(se->py, pid);
			uint64_t sig;

			symbolizer__refresh(se->sym, pid);
			sig = maps_signature(symbolizer__maps(se->sym, pid));
			/* Nothing mapped since the last look: nothing new to find
			 * (GIL modes look for the GIL, which comes later, too).
			 */
			if (sig == se->pending[i].maps_sig && !known) {
				double age = now - se->pending[i].first;

				if (age > PY_RETRY_FOR_SEC || !sig)
					session_pending_remove(se, pid);
				else
					se->pending[i].next =
					    now + (age < PY_RETRY_FAST_SEC ? PY_RETRY_SEC : age);
				continue;
			}
			se->pending[i].maps_sig = sig;
			/* Libraries mapped since the last look (the dynamic loader
			 * after exec): their unwind tables now, not at the first
			 * walk that misses them (one miss event each 100 ms).
			 */
			unwind__update(se->unwind, pid, symbolizer__maps(se->sym, pid), true);
			session_inspect_python(se, pid, true, false);
			/* An interpreter found late: the command hears of it. */
			if (!known && python__checked(se->py, pid) && se->o.on_process)
				se->o.on_process(pid, se->o.on_process_ctx);
		}
	}
}

const char *session_describe_python(pid_t pid, void *ctx)
{
	return python__describe(((struct session *)ctx)->py, pid);
}
