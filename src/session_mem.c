// SPDX-License-Identifier: GPL-2.0
/* mem's side of the session: sampled faults and the calls that give memory
 * back, into memtrack; the RSS curve of the process tree (memcurve).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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
#include "elf_syms.h"
#include "procmaps.h"
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

/* glibc's libc as mapped: "libc.so.6", "libc-2.31.so". */
static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) ||
	       (!strncmp(base, "libc-", 5) && strstr(base, ".so") != NULL);
}

static bool same_file(const char *path, const struct map_entry *m)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == m->inode && major(st.st_dev) == m->dev_major &&
	       minor(st.st_dev) == m->dev_minor;
}

/* Which image pid runs: its executable's device and inode (0: unknown). */
static uint64_t exe_id(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st))
		return 0;
	return (uint64_t)st.st_dev << 40 ^ st.st_ino;
}

/* pid has waited for its probes longer than MEM_PROBE_RETRY_SEC. */
static bool pending_expired(struct session *se, pid_t pid)
{
	uint64_t *bits = u64map_find(&se->mem_probe_pending, (uint32_t)pid);
	double since;

	if (!bits)
		return false;
	memcpy(&since, bits, sizeof(since));
	return now_sec() - since > MEM_PROBE_RETRY_SEC;
}

/* CPython's allocator lives in the interpreter or in libpython. */
static bool is_python(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "python", 6) || !strncmp(base, "libpython", 9);
}

/* The functions [first, last) of enum mem_alloc_fn in the file of m, mapped
 * by pid: their file offsets into offsets (0: absent, or at the address of
 * one found before: aligned_alloc is memalign in glibc), and into path one
 * the kernel can place uprobes by: the path as maps shows it (relative to
 * our root, a chroot included), else through the process's root, whichever
 * is the file mapped (same inode); map_files it cannot follow (ENOENT).
 * How many were found; -1 and *why when the file cannot be read or named.
 */
static int probe_offsets(pid_t pid, const struct map_entry *m, int first, int last,
			 uint64_t offsets[ALLOC__MAX], char *path, size_t len, const char **why)
{
	char mf[96];
	struct elf_syms *es;
	int found = 0;

	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		 m->end);
	es = elf_syms__open(mf, why);
	if (!es)
		return -1;
	for (int f = first; f < last; f++) {
		uint64_t va = elf_syms__find(es, capture__alloc_name(f));

		if (va && !elf_syms__vaddr_to_offset(es, va, &offsets[f]))
			found++;
		for (int g = first; g < f && offsets[f]; g++)
			if (offsets[g] == offsets[f]) {
				offsets[f] = 0;
				found--;
			}
	}
	elf_syms__free(es);
	snprintf(path, len, "%s", m->path);
	if (!same_file(path, m)) {
		snprintf(path, len, "/proc/%d/root%s", (int)pid, m->path);
		if (!same_file(path, m)) {
			*why = "not found by path: another mount namespace?";
			return -1;
		}
	}
	return found;
}

/* mem --precise: probe the allocators of pid now: glibc's in the libc it
 * maps, and CPython's (PyObject_Malloc...) in its interpreter when it runs
 * one. Its earlier probes go. 0, or -1 (said once per cause, counted).
 */
int session_mem_probe(struct session *se, pid_t pid)
{
	uint64_t offsets[ALLOC__MAX] = { 0 };
	struct proc_maps *maps = proc_maps__read(pid);
	const struct map_entry *m = NULL, *py = NULL;
	const char *paths[ALLOC__MAX] = { NULL };
	char rpath[PATH_MAX + 32], pypath[PATH_MAX + 32];
	const char *why = NULL;
	int err, found, pyfound = 0;

	for (size_t i = 0; maps && i < maps->n; i++) {
		if (!maps->entries[i].path[0])
			continue;
		if (!m && is_libc(maps->entries[i].path))
			m = &maps->entries[i];
		else if (is_python(maps->entries[i].path) &&
			 (!py || strstr(maps->entries[i].path, "libpython")))
			py = &maps->entries[i];
	}
	if (!maps || !m) {
		/* Just exec'ed, libc not mapped yet by the dynamic loader: look
		 * again at the next RSS sample, for MEM_PROBE_RETRY_SEC. A
		 * static or musl build has none.
		 */
		bool added;
		uint64_t *since = u64map_slot(&se->mem_probe_pending, (uint32_t)pid, &added);
		double now = now_sec();

		if (added)
			memcpy(since, &now, sizeof(now));
		proc_maps__free(maps);
		return -1;
	}
	found = probe_offsets(pid, m, 0, ALLOC__LIBC, offsets, rpath, sizeof(rpath), &why);
	if (found < 0 && !procfs__alive(pid, 0)) {
		p_debug("mem: PID %d gone before its probes (%s)", (int)pid, why);
		se->mem_unprobed++;
		proc_maps__free(maps);
		return -1;
	}
	if (found < 0 || !offsets[ALLOC_MALLOC] || !offsets[ALLOC_FREE]) {
		p_warn("PID %d: cannot find malloc and free in %s (%s): its allocations are not "
		       "followed",
		       (int)pid, m->path, found < 0 ? why : "no such symbols");
		se->mem_unprobed++;
		proc_maps__free(maps);
		return -1;
	}
	for (int f = 0; f < ALLOC__LIBC; f++)
		paths[f] = rpath;
	/* CPython's own functions (PyObject_Malloc...), all four or none, only
	 * when RAMPA_MEM_PYOBJECT is set: where the interpreter reaches its
	 * allocator without calling these entry points (Debian's LTO builds
	 * inline them), their frees and allocations do not pair up, and
	 * balanced code shows as growth (docs/PERFORMANCE.md).
	 */
	if (py && getenv("RAMPA_MEM_PYOBJECT")) {
		pyfound = probe_offsets(pid, py, ALLOC__LIBC, ALLOC__MAX, offsets, pypath,
					sizeof(pypath), &why);
		if (pyfound != ALLOC__MAX - ALLOC__LIBC) {
			p_debug("mem: PID %d: CPython's allocator not probed in %s (%s)", (int)pid,
				py->path, pyfound < 0 ? why : "not all of PyObject_* exported");
			for (int f = ALLOC__LIBC; f < ALLOC__MAX; f++)
				offsets[f] = 0;
			pyfound = 0;
		}
		for (int f = ALLOC__LIBC; f < ALLOC__MAX; f++)
			paths[f] = pypath;
	}
	found += pyfound;
	err = capture__alloc_attach(se->cap, pid, paths, offsets);
	if (err == -ESRCH && !pending_expired(se, pid)) {
		/* The kernel refuses a process in the middle of an exec: again
		 * at the next RSS sample.
		 */
		bool added;
		uint64_t *since = u64map_slot(&se->mem_probe_pending, (uint32_t)pid, &added);
		double now = now_sec();

		p_debug("mem: PID %d busy (exec?): probing it again", (int)pid);
		if (added)
			memcpy(since, &now, sizeof(now));
	} else if (err) {
		u64map_del(&se->mem_probe_pending, (uint32_t)pid);
		p_warn("PID %d: cannot attach uprobes to %s: %s (its allocations are not followed; "
		       "the kernel needs CONFIG_UPROBES)",
		       (int)pid, m->path, strerror(-err));
		se->mem_unprobed++;
	} else {
		bool added;

		u64map_del(&se->mem_probe_pending, (uint32_t)pid);
		*u64map_slot(&se->mem_probed_exe, (uint32_t)pid, &added) = exe_id(pid);
		p_debug("mem: %d allocator functions of %s%s%s probed in PID %d", found, m->path,
			pyfound ? " and " : "", pyfound ? py->path : "", (int)pid);
		/* Processes: an exec probed again is the same one. */
		if (added)
			se->mem_probed++;
	}
	proc_maps__free(maps);
	return err ? -1 : 0;
}

static bool probe_due(const struct u64map_slot *e, void *ctx)
{
	struct session *se = ctx;
	double since;

	memcpy(&since, &e->val, sizeof(since));
	if (kill((pid_t)e->key, 0) && errno == ESRCH)
		return true;
	if (now_sec() - since > MEM_PROBE_RETRY_SEC) {
		p_warn("PID %d: no allocator probed after %.0f s (no glibc mapped: a static or "
		       "musl build?); its allocations are not followed: use rampa-bpf mem "
		       "without --precise",
		       (int)e->key, MEM_PROBE_RETRY_SEC);
		se->mem_unprobed++;
		return true;
	}
	return false;
}

/* Processes whose libc was not mapped yet: probed once it is. */
void session_mem_probe_pending(struct session *se)
{
	uint64_t pids[64];
	size_t n = 0;

	u64map_del_if(&se->mem_probe_pending, probe_due, se);
	for (size_t i = 0; i < se->mem_probe_pending.cap && n < 64; i++)
		if (u64map_used(&se->mem_probe_pending, i))
			pids[n++] = se->mem_probe_pending.slots[i].key;
	for (size_t i = 0; i < n; i++)
		session_mem_probe(se, (pid_t)pids[i]);
}

/* A fault's event goes out as the fault begins: what it mapped (a huge
 * page?) is read once it has been handled (MEM_FAULT_SETTLE_NS), into addr2
 * and len2; a page not there yet (its thread may wait for a CPU mid-fault)
 * is looked at again, up to MEM_FAULT_WAIT_NS. Called at every RSS sample,
 * so pages kept briefly are seen; at the end, every fault is measured.
 */
static uint64_t folio_bytes(struct session *se, pid_t pid, uint64_t addr, uint64_t *start);

void session_mem_measure(struct session *se)
{
	uint64_t now = mono_ns();

	for (size_t i = 0; i < se->nmem_q; i++) {
		struct mem_event *q = &se->mem_q[i];
		uint64_t start = 0, bytes;

		if (q->type != MEM_FAULT || q->len2)
			continue;
		if (!se->stopped && q->ts + MEM_FAULT_SETTLE_NS > now)
			break; /* and every later one */
		bytes = folio_bytes(se, q->pid, q->addr, &start);
		if (!bytes && !se->stopped && q->ts + MEM_FAULT_WAIT_NS > now)
			continue;
		q->len2 = bytes ? bytes : RAMPA_MEM_PAGE_BYTES;
		q->addr2 = bytes ? start : q->addr;
	}
}

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

#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_THP		  22
#define PM_PRESENT	  (1ull << 63)
#define PM_PFN_MASK	  ((1ull << 55) - 1)
#define FOLIO_MAX_PAGES	  512 /* a PMD-mapped huge page: 2 MiB */

/* The bytes of the folio (a 4 KiB page, or a transparent huge page of up to
 * 2 MiB) mapped at addr in pid now, by /proc/PID/pagemap and
 * /proc/kpageflags (root); *start: where it is mapped from. 0 when it
 * cannot be told (not present, not permitted): the fault is taken as one
 * page.
 */
static uint64_t folio_bytes(struct session *se, pid_t pid, uint64_t addr, uint64_t *start)
{
	uint64_t ent, flags[FOLIO_MAX_PAGES], pfn, base, head, end;
	char path[64];

	if (se->kpageflags_fd == -2)
		return 0;
	if (se->kpageflags_fd < 0) {
		se->kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (se->kpageflags_fd < 0) {
			se->kpageflags_fd = -2;
			return 0;
		}
	}
	/* Faults come mostly from one process at a time: its pagemap stays
	 * open (an open and a close per fault were a tenth of the
	 * profiler's CPU). A PID reused meanwhile has a new file.
	 */
	if (se->pagemap_fd >= 0 && se->pagemap_pid != pid) {
		close(se->pagemap_fd);
		se->pagemap_fd = -1;
	}
	if (se->pagemap_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
		se->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (se->pagemap_fd < 0)
			return 0;
		se->pagemap_pid = pid;
	}
	if (pread(se->pagemap_fd, &ent, sizeof(ent), (off_t)(addr >> 12) * 8) != sizeof(ent)) {
		close(se->pagemap_fd);
		se->pagemap_fd = -1;
		return 0;
	}
	pfn = ent & PM_PFN_MASK;
	if (!(ent & PM_PRESENT) || !pfn)
		return 0;
	/* The page's own flags first: the kernel computes each entry
	 * (~0.5 us), and most faults map a plain page.
	 */
	if (pread(se->kpageflags_fd, flags, sizeof(flags[0]), (off_t)pfn * 8) != sizeof(flags[0]))
		return 0;
	if (!(flags[0] & (1ull << KPF_THP)))
		return 4096;
	/* Folios are aligned to their size in physical memory too: the one
	 * holding pfn lies in its aligned window of 512 frames.
	 */
	base = pfn & ~(uint64_t)(FOLIO_MAX_PAGES - 1);
	if (pread(se->kpageflags_fd, flags, sizeof(flags), (off_t)base * 8) != sizeof(flags))
		return 0;
	if (!(flags[pfn - base] & (1ull << KPF_THP)))
		return 4096;
	for (head = pfn - base; head > 0 && !(flags[head] & (1ull << KPF_COMPOUND_HEAD)); head--)
		;
	for (end = head + 1; end < FOLIO_MAX_PAGES && (flags[end] & (1ull << KPF_COMPOUND_TAIL));
	     end++)
		;
	if (pfn - base >= end)
		return 4096;
	*start = (addr & ~4095ull) - (pfn - base - head) * 4096;
	return (end - head) * 4096;
}

void session_on_mem(const struct mem_event *e, void *ctx)
{
	struct session *se = ctx;
	struct mem_event *q;

	grow_array((void **)&se->mem_q, &se->mem_q_cap, se->nmem_q + 1, sizeof(*se->mem_q));
	q = &se->mem_q[se->nmem_q++];
	*q = *e;
}

/* --precise: what a sampled allocation of len bytes stands for. */
static uint64_t mem_stands_for(const struct session *se, uint64_t len)
{
	return len > se->mem_sample_bytes ? len : se->mem_sample_bytes;
}

/* The memtrack stack of a sampled event's key, built once per kernel key
 * (the thread left out unless -T); bytes: what the event stands for, its
 * process's weight. refreshed: the processes whose maps were read again in
 * this pass.
 */
static int64_t mem_stack_of(struct session *se, const struct mem_event *e, uint64_t bytes,
			    struct u64map *refreshed)
{
	struct sample_key k = e->key;
	int64_t stack;
	uint64_t h;
	uint32_t unknown;
	bool named = true, added;

	if (!se->o.per_thread)
		k.tid = 0;
	h = hash_bytes(&k, sizeof(k), 0x6d656d);
	stack = memtrack__stack_find(se->mem, h);
	if (stack >= 0)
		return stack;
	unknown = profile__intern(se->prof, "[unknown]");
	se->mem_nframes = 0;
	capture__mem_sample(se->cap, &e->key, bytes, session_mem_on_sample, se);
	for (uint32_t j = 0; j < se->mem_nframes; j++)
		named &= se->mem_frames[j] != unknown;
	/* A library loaded since the maps were read (dlopen): read them again,
	 * once per process and pass, and retry.
	 */
	u64map_slot(refreshed, e->pid, &added);
	if (!named && added) {
		symbolizer__refresh(se->sym, e->pid);
		se->mem_nframes = 0;
		capture__mem_sample(se->cap, &e->key, bytes, session_mem_on_sample, se);
		named = true;
		for (uint32_t j = 0; j < se->mem_nframes; j++)
			named &= se->mem_frames[j] != unknown;
	}
	return memtrack__stack_add(se->mem, h, named, e->pid, se->mem_frames, se->mem_nframes);
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
	session_mem_measure(se);
	/* In order: up to the first fault not measured yet. */
	for (size_t i = 0; i < n; i++)
		if (se->mem_q[i].type == MEM_FAULT && !se->mem_q[i].len2) {
			n = i;
			break;
		}
	for (size_t i = 0; i < n; i++) {
		const struct mem_event *e = &se->mem_q[i];
		uint64_t addr = e->addr, len = e->len;
		int64_t stack;

		/* Before exec the child runs rampa-bpf's own code: the BPF
		 * programs leave it alone (capture__mem_hold).
		 */
		memtrack__set_time(se->mem, ((double)e->ts - (double)se->start_ns) / 1e9);
		/* A Python thread with no frame left giving memory back: its
		 * interpreter shutting down, not the program releasing it.
		 */
		if ((e->type == MEM_RELEASE || e->type == MEM_MOVE || e->type == MEM_BLOCK_FREE) &&
		    e->key.py_status == PY_NO_FRAME) {
			bool added;

			se->mem_shutdown_releases++;
			u64map_slot(&se->mem_shutdown_pids, e->pid, &added);
			if (added)
				se->mem_shutdown_t = ((double)e->ts - (double)se->start_ns) / 1e9;
			p_debug("mem: pid %u tid %u, no Python frame: release %u of %#llx left out",
				e->pid, e->tid, e->type, (unsigned long long)e->addr);
			continue;
		}
		switch (e->type) {
		case MEM_EXEC:
			memtrack__forget_process(se->mem, e->pid);
			break;
		case MEM_BLOCK_FREE:
			p_debug("mem: pid %u tid %u freed %#llx by %s", e->pid, e->tid,
				(unsigned long long)e->addr, capture__alloc_name(e->nr));
			if (e->nr == ALLOC_MUNMAP)
				memtrack__map_release(se->mem, e->pid, e->addr, e->len);
			else
				memtrack__block_free(se->mem, e->pid, e->addr);
			break;
		case MEM_BLOCK_ALLOC:
		case MEM_FAULT:
			/* A fault on a transparent huge page maps all of it at
			 * once: the sample stands for that many bytes per fault.
			 */
			if (e->type == MEM_FAULT && e->len2 > RAMPA_MEM_PAGE_BYTES) {
				len = e->len / RAMPA_MEM_PAGE_BYTES * e->len2;
				addr = e->addr2;
				se->mem_huge_faults++;
			}
			stack = mem_stack_of(se, e, e->len, &refreshed);
			if (e->type == MEM_FAULT)
				memtrack__fault(se->mem, e->pid, addr, len, (uint32_t)stack);
			else if (e->flags & MEM_EV_MAPPED)
				memtrack__map_alloc(se->mem, e->pid, e->addr, e->len,
						    mem_stands_for(se, e->len), (uint32_t)stack);
			else
				memtrack__block_alloc(se->mem, e->pid, e->addr,
						      mem_stands_for(se, e->len), (uint32_t)stack);
			break;
		case MEM_RELEASE:
			p_debug("mem: pid %u syscall %u gave back %#llx +%#llx", e->pid, e->nr,
				(unsigned long long)e->addr, (unsigned long long)e->len);
			if (se->o.mem_precise)
				memtrack__map_release(se->mem, e->pid, e->addr, e->len);
			else
				memtrack__release(se->mem, e->pid, e->addr, e->len);
			break;
		case MEM_MOVE:
			p_debug("mem: pid %u moved %#llx +%#llx to %#llx +%#llx", e->pid,
				(unsigned long long)e->addr, (unsigned long long)e->len,
				(unsigned long long)e->addr2, (unsigned long long)e->len2);
			if (!se->o.mem_precise)
				memtrack__move(se->mem, e->pid, e->addr, e->len, e->addr2, e->len2);
			else
				memtrack__map_move(
				    se->mem, e->pid, e->addr, e->len, e->addr2, e->len2,
				    e->len2 > e->len ? mem_stands_for(se, e->len2 - e->len) : 0,
				    e->flags & MEM_EV_GROWN
					? mem_stack_of(se, e, e->len2 - e->len, &refreshed)
					: -1);
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
/* Whether pid is between losing its memory and becoming a zombie: its
 * statm reads 0 while the kernel unmaps its pages, and every page it shared
 * then counts for fewer processes in the others' PSS.
 */
static bool mem_exiting(pid_t pid)
{
	char path[64], state;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	state = procfs__stat_state(path);
	return state && state != 'Z' && state != 'X';
}

/* The sum of the PSS of the targets holding memory now (pids: n of them),
 * into *total; false when one of them began to exit meanwhile. A page shared
 * by k processes counts 1/k in each PSS, read one process after the other:
 * a process exiting between two reads makes its pages count 1/k in the ones
 * read before and 1/(k-1) in the ones read after, and a pre-fork tree of
 * 110 MiB whose workers exit together read up to 148. Such a reading is not
 * a point of the curve. (A fork between two reads counts the new sharer's
 * part in none: a reading a little low, never a false peak.)
 */
static bool mem_pss_sum(const pid_t *pids, size_t n, uint64_t *total, uint64_t *anon)
{
	uint64_t a;

	*total = *anon = 0;
	for (size_t i = 0; i < n; i++) {
		*total += memcurve__pss_of(pids[i], &a);
		*anon += a;
	}
	for (size_t i = 0; i < n; i++)
		if (!memcurve__rss_of(&pids[i], 1, NULL))
			return false;
	return true;
}

/* Resident memory of the target tree now, onto the curve. Per process, the
 * last time its RSS was not falling (not down by MEM_RSS_STEP_BYTES since
 * the sample before): what it held then is what it reports if it exits
 * (memtrack__exited), its shutdown left out.
 */
void session_mem_rss(struct session *se)
{
	double t = now_sec() - se->start_ns / 1e9;
	uint64_t total = 0, total_anon = 0;
	size_t n = 0, exiting = 0;
	pid_t *held = NULL;
	size_t held_cap = 0;

	/* Before exec the child is rampa-bpf's copy: not the target's memory. */
	if (se->child && !se->child_execed)
		return;
	if (se->mem_probe_pending.n)
		session_mem_probe_pending(se);
	session_mem_measure(se);
	for (size_t i = 0; se->o.mem_precise && i < se->tree.cap; i++) {
		uint64_t *id, now;
		pid_t pid;

		if (!u64map_used(&se->tree, i))
			continue;
		/* An exec whose event came before the new image mapped its
		 * libc, or was not seen: the image changed since the probes.
		 */
		pid = (pid_t)se->tree.slots[i].key;
		id = u64map_find(&se->mem_probed_exe, (uint32_t)pid);
		now = exe_id(pid);
		if (now && (!id || *id != now) &&
		    !u64map_find(&se->mem_probe_pending, (uint32_t)pid))
			session_mem_probe(se, pid);
	}
	for (size_t i = 0; i < se->tree.cap; i++) {
		uint64_t rss, anon, *last, *steady_t;
		pid_t pid;

		if (!u64map_used(&se->tree, i))
			continue;
		pid = (pid_t)se->tree.slots[i].key;
		rss = memcurve__rss_of(&pid, 1, &anon);
		if (!rss) {
			exiting += mem_exiting(pid);
			continue;
		}
		grow_array((void **)&held, &held_cap, n + 1, sizeof(*held));
		held[n++] = pid;
		total += rss;
		total_anon += anon;
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
	 * tables for it (~0.1 s a GiB), so it is read at most 1/20 of the time;
	 * not while a target exits (mem_pss_sum), but at the next sample.
	 */
	if (n > 1) {
		uint64_t t0;

		if (t < se->next_pss)
			goto out;
		if (exiting) {
			se->pss_unsteady++;
			goto out;
		}
		t0 = mono_ns();
		if (!mem_pss_sum(held, n, &total, &total_anon)) {
			se->pss_unsteady++;
			goto out;
		}
		se->next_pss = t + fmax(MEM_RSS_INTERVAL_SEC, 20 * (mono_ns() - t0) / 1e9);
		se->pss_reads++;
	}
	/* With every target gone, the curve ends at its last point. */
	if (n && total)
		memcurve__add(&se->curve, t, total, total_anon);
out:
	free(held);
}

uint64_t session__mem_pss_reads(const struct session *se)
{
	return se->pss_reads;
}

uint64_t session__mem_pss_unsteady(const struct session *se)
{
	return se->pss_unsteady;
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

uint64_t session__mem_huge_faults(const struct session *se)
{
	return se->mem_huge_faults;
}

struct memcurve *session__memcurve(struct session *se)
{
	return &se->curve;
}
