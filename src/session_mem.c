// SPDX-License-Identifier: GPL-2.0
/* mem's side of the session: sampled faults and the calls that give memory
 * back, into memtrack; the RSS curve of the process tree (memcurve).
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
#include <unistd.h>

#include "capture_api.h"
#include "folded.h"
#include "gilwait.h"
#include "memtrack.h"
#include "procfs.h"
#include "profile.h"
#include "progress.h"
#include "python.h"
#include "pythreads.h"
#include "session_int.h"
#include "stacks.h"
#include "symbolize.h"
#include "unwind.h"
#include "util.h"

/* A sampled fault's stack, as on_sample builds it, into se->mem_frames. */
void session_mem_on_sample(const struct capture_sample *s, void *ctx)
{
	struct session *se = ctx;
	struct proc_name *pe = session_proc_entry(se, s->pid, false);
	enum py_name unnamed;
	uint32_t n = 0;

	*u64map_slot(&se->tids, s->tid, NULL) = s->pid;
	if (s->ustack_lost)
		se->ustack_lost += s->count;
	se->mem_frames[n++] = pe->frame;
	pe->weight += s->count;
	if (se->o.per_process)
		se->mem_frames[n++] = session_proc_pid_frame(se, pe);
	n = stacks__build(se->stacks, s, se->mem_frames, n, &unnamed);
	if (unnamed)
		se->py_unnamed_other++;
	se->mem_nframes = n;
}

void session_on_mem(const struct mem_event *e, void *ctx)
{
	struct session *se = ctx;

	grow_array((void **)&se->mem_q, &se->mem_q_cap, se->nmem_q + 1, sizeof(*se->mem_q));
	se->mem_q[se->nmem_q++] = *e;
}

/* The memory events queued so far, in order. A fault's code events went
 * out before it: taken first, they name its frames. Its stack is built
 * once per kernel key (the thread left out unless -T).
 */
void session_mem_process(struct session *se)
{
	struct u64map refreshed = U64MAP_INIT;
	size_t n = se->nmem_q;

	if (!se->mem)
		return;
	capture__consume_codes(se->cap);
	for (size_t i = 0; i < n; i++) {
		const struct mem_event *e = &se->mem_q[i];
		struct sample_key k;
		int64_t stack;
		uint64_t h;

		/* Before exec the child runs rampa-bpf's own code. */
		if (se->child && e->pid == (__u32)se->child && !se->child_execed)
			continue;
		memtrack__set_time(se->mem, ((double)e->ts - (double)se->start_ns) / 1e9);
		/* A Python thread with no frame left giving memory back: its
		 * interpreter shutting down, not the program releasing it.
		 */
		if ((e->type == MEM_RELEASE || e->type == MEM_MOVE) &&
		    e->key.py_status == PY_NO_FRAME) {
			se->mem_shutdown_releases++;
			continue;
		}
		switch (e->type) {
		case MEM_FAULT:
			k = e->key;
			if (!se->o.per_thread)
				k.tid = 0;
			h = hash_bytes(&k, sizeof(k), 0x6d656d);
			stack = memtrack__stack_find(se->mem, h);
			if (stack < 0) {
				uint32_t unknown = profile__intern(se->prof, "[unknown]");
				bool named = true, added;

				se->mem_nframes = 0;
				capture__mem_sample(se->cap, &e->key, e->len, session_mem_on_sample,
						    se);
				for (uint32_t j = 0; j < se->mem_nframes; j++)
					named &= se->mem_frames[j] != unknown;
				/* A library loaded since the maps were read (dlopen): read
				 * them again, once per process and pass, and retry.
				 */
				u64map_slot(&refreshed, e->pid, &added);
				if (!named && added) {
					symbolizer__refresh(se->sym, e->pid);
					se->mem_nframes = 0;
					capture__mem_sample(se->cap, &e->key, e->len,
							    session_mem_on_sample, se);
					named = true;
					for (uint32_t j = 0; j < se->mem_nframes; j++)
						named &= se->mem_frames[j] != unknown;
				}
				stack = memtrack__stack_add(se->mem, h, named, e->pid,
							    se->mem_frames, se->mem_nframes);
			}
			memtrack__fault(se->mem, e->pid, e->addr, e->len, (uint32_t)stack);
			break;
		case MEM_RELEASE:
			p_debug("mem: pid %u syscall %u gave back %#llx +%#llx", e->pid, e->nr,
				(unsigned long long)e->addr, (unsigned long long)e->len);
			memtrack__release(se->mem, e->pid, e->addr, e->len);
			break;
		case MEM_MOVE:
			memtrack__move(se->mem, e->pid, e->addr, e->len, e->addr2, e->len2);
			break;
		}
	}
	u64map_free(&refreshed);
	memmove(se->mem_q, se->mem_q + n, (se->nmem_q - n) * sizeof(*se->mem_q));
	se->nmem_q -= n;
}

/* Resident memory of the target tree now, onto the curve. Per process, the
 * last time its RSS was not falling (not down by MEM_RSS_STEP_BYTES since
 * the sample before): what it held then is what it reports if it exits
 * (memtrack__exited), its shutdown left out.
 */
void session_mem_rss(struct session *se)
{
	double t = now_sec() - se->start_ns / 1e9;
	uint64_t total = 0;
	size_t n = 0;

	/* Before exec the child is rampa-bpf's copy: not the target's memory. */
	if (se->child && !se->child_execed)
		return;
	for (size_t i = 0; i < se->tree.cap; i++) {
		uint64_t rss, *last, *steady_t;
		pid_t pid;

		if (!u64map_used(&se->tree, i))
			continue;
		pid = (pid_t)se->tree.slots[i].key;
		rss = memcurve__rss_of(&pid, 1);
		if (!rss)
			continue;
		n++;
		total += rss;
		last = u64map_slot(&se->mem_last, (uint32_t)pid, NULL);
		steady_t = u64map_slot(&se->mem_steady_t, (uint32_t)pid, NULL);
		if (rss + MEM_RSS_STEP_BYTES >= *last)
			memcpy(steady_t, &t, sizeof(t));
		*last = rss;
	}
	/* Pages a fork shares (copy on write) are in each process's RSS: with
	 * several targets the sum of RSS counts them again and again, and a
	 * pre-fork server of 100 MiB with 3 workers would "peak" at 400 MiB.
	 * Their PSS adds up to the pages once. The kernel walks the page
	 * tables for it (~0.1 s a GiB), so it is read at most 1/20 of the time.
	 */
	if (n > 1) {
		uint64_t t0;

		if (t < se->next_pss)
			return;
		t0 = mono_ns();
		total = 0;
		for (size_t i = 0; i < se->tree.cap; i++)
			if (u64map_used(&se->tree, i))
				total += memcurve__pss_of((pid_t)se->tree.slots[i].key);
		se->next_pss = t + fmax(MEM_RSS_INTERVAL_SEC, 20 * (mono_ns() - t0) / 1e9);
		se->pss_reads++;
	}
	/* With every target gone, the curve ends at its last point. */
	if (n && total)
		memcurve__add(&se->curve, t, total);
}

uint64_t session__mem_pss_reads(const struct session *se)
{
	return se->pss_reads;
}

void session_mem_add_retained(const uint32_t *frames, uint32_t n, uint64_t retained, uint64_t churn,
			      void *ctx)
{
	(void)churn;
	if (retained)
		profile__add(ctx, frames, n, retained);
}

struct memtrack *session__memtrack(const struct session *se)
{
	return se->mem;
}

uint64_t session__mem_shutdown_releases(const struct session *se)
{
	return se->mem_shutdown_releases;
}

struct memcurve *session__memcurve(struct session *se)
{
	return &se->curve;
}
