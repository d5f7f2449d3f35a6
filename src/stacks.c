// SPDX-License-Identifier: GPL-2.0
/* The sample-to-frames step: see include/stacks.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_api.h"
#include "folded.h"
#include "profile.h"
#include "python.h"
#include "pythreads.h"
#include "stacks.h"
#include "symbolize.h"
#include "u64map.h"
#include "util.h"

struct stacks {
	struct profile *prof;
	struct symbolizer *sym;
	struct python *py;
	struct pythreads *pt;
	struct stacks_opts opts;
	struct stacks_stats stats;
	bool cfi;		   /* stacks__set_cfi */
	bool sites;		   /* stacks__set_sites */
	struct u64map site_frames; /* (site file << 48 | address) -> its native frame */
	struct u64map site_mods;   /* site file -> its module in the profile */
	struct u64map ksites;	   /* with sites: kernel address -> its frame */
	enum py_name cur_unnamed;  /* the stack being built has an unnamed frame */
	struct u64map tnames;	   /* -T: (PID << 32 | TID) -> its "NAME-TID" frame */
	struct snapshot {
		uint32_t *frames; /* the body, root first */
		uint32_t n;
	} * snaps; /* by snap_id - 1 */
	size_t nsnaps, snaps_cap;
};

struct stacks *stacks__new(struct profile *prof, struct symbolizer *sym, struct python *py,
			   struct pythreads *pt, const struct stacks_opts *o)
{
	struct stacks *b = xcalloc(1, sizeof(*b));

	b->prof = prof;
	b->sym = sym;
	b->py = py;
	b->pt = pt;
	b->opts = *o;
	return b;
}

void stacks__free(struct stacks *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nsnaps; i++)
		free(b->snaps[i].frames);
	free(b->snaps);
	u64map_free(&b->tnames);
	u64map_free(&b->site_frames);
	u64map_free(&b->site_mods);
	u64map_free(&b->ksites);
	free(b);
}

void stacks__set_cfi(struct stacks *b, bool on)
{
	b->cfi = on;
}

void stacks__set_sites(struct stacks *b, bool on)
{
	b->sites = on;
}

/* The frame of a native address: with sites, one per (file, address), by
 * its function's name for now (stacks__name_sites names it whole); else its
 * frames named whole now. *names gets the names (innermost first), the
 * count is returned, frame ids in ids.
 */
static unsigned int user_frames(struct stacks *b, pid_t pid, uint64_t addr, bool leaf,
				const char *const **names, uint32_t *ids)
{
	struct symbolizer_site st;
	const struct profile_module *pm;
	static const char *one[1];
	uint64_t *v, *mod;
	bool added;
	unsigned int k;

	if (!b->sites) {
		k = symbolizer__user_frames(b->sym, pid, addr, leaf, names);
		for (unsigned int j = 0; j < k; j++)
			ids[j] = profile__intern(b->prof, (*names)[j]);
		return k;
	}
	one[0] = symbolizer__user_site(b->sym, pid, addr, leaf, &st);
	*names = one;
	if (!st.file) {
		ids[0] = profile__intern(b->prof, one[0]);
		return 1;
	}
	/* A known site is a lookup: no naming at all. */
	v = u64map_slot(&b->site_frames, (uint64_t)st.file << 48 | st.vaddr, &added);
	if (added) {
		struct profile_module m = { (char *)st.path, (char *)st.build_id, st.start,
					    st.limit, st.offset };

		/* A module per file; its range grows with another mapping's. */
		mod = u64map_slot(&b->site_mods, st.file, &added);
		pm = added ? NULL : profile__module(b->prof, (uint32_t)*mod);
		if (!pm || st.vaddr < pm->start || st.vaddr >= pm->limit)
			*mod = profile__add_module(b->prof, &m);
		*v = profile__add_native(b->prof, symbolizer__site_name(b->sym, &st),
					 (uint32_t)*mod, st.vaddr);
	}
	ids[0] = (uint32_t)*v;
	one[0] = profile__frame_name(b->prof, ids[0]);
	return 1;
}

const struct stacks_stats *stacks__stats(const struct stacks *b)
{
	return &b->stats;
}

/* Native user frames, root first, in out (STACKS_MAX_NATIVE entries), and
 * for each the index in s->ustack of the address it names (addr, optional)
 * and whether it is that address's function rather than a call inlined in
 * it (outer, optional). *naddr gets how many addresses were used.
 * Walking from the leaf, a return address in no mapping means the walk left
 * the real stack (code without frame pointers): nothing rootward of it is
 * kept but that one "[unknown]". An address whose inlined calls do not fit
 * keeps its function's frame alone (counted).
 */
static uint32_t native_frames(struct stacks *b, const struct capture_sample *s, uint32_t *out,
			      uint8_t *addr, bool *outer, uint32_t *naddr)
{
	uint32_t tmp[STACKS_MAX_NATIVE], n = 0, i;
	uint8_t tmp_addr[STACKS_MAX_NATIVE];
	const char *const *names;

	for (i = 0; i < s->nustack && i < RAMPA_MAX_STACK_DEPTH; i++) {
		uint32_t ids[SYMBOLIZER_MAX_FRAMES];
		unsigned int k = user_frames(b, s->pid, s->ustack[i], i == 0, &names, ids);
		unsigned int first = 0;

		/* Room for each address left to walk, its function frame at least. */
		if (n + k > STACKS_MAX_NATIVE - (RAMPA_MAX_STACK_DEPTH - i - 1)) {
			b->stats.inline_cut += k - 1;
			first = k - 1;
		}
		for (unsigned int j = first; j < k; j++) {
			tmp_addr[n] = (uint8_t)i;
			tmp[n++] = ids[j];
		}
		if (!strcmp(names[k - 1], "[unknown]")) {
			i++;
			break;
		}
	}
	*naddr = i;
	for (uint32_t j = 0; j < n; j++) {
		out[j] = tmp[n - 1 - j];
		if (addr)
			addr[j] = tmp_addr[n - 1 - j];
		/* Root first, an address's function comes before its inlined calls. */
		if (outer)
			outer[j] = j == 0 || tmp_addr[n - 1 - j] != tmp_addr[n - j];
	}
	return n;
}

/* One Python frame as a profile frame; a frame that cannot be named counts
 * against the sample being built (b->cur_unnamed).
 */
static uint32_t python_frame(struct stacks *b, const struct capture_sample *s,
			     const struct py_frame *f)
{
	char buf[FOLDED_MAX_FRAME + 1];
	enum py_name why = python__frame_name(b->py, s->pid, f, buf, sizeof(buf));

	if (why != PY_NAMED && !b->cur_unnamed)
		b->cur_unnamed = why;
	return profile__intern(b->prof, buf);
}

bool stacks__is_eval_frame(const char *name)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";

	/* Its file and line may follow: "_PyEval_EvalFrameDefault (ceval.c:1)". */
	return !strncmp(name, eval, sizeof(eval) - 1) &&
	       (name[sizeof(eval) - 1] == '\0' || name[sizeof(eval) - 1] == '.' ||
		(name[sizeof(eval) - 1] == ' ' && !strstr(name, " (inlined)")));
}

/* Beyond the outermost frame's stack pointer, how far its own stack frame
 * may reach.
 */
#define OUTER_FRAME_BYTES (1u << 16)

bool stacks__place_runs(const struct py_stack *py, const uint64_t *sps, uint32_t nsps,
			uint32_t nnative, int *home)
{
	uint32_t start = 0, from = 0;

	if (!sps || !nsps || !sps[0] || !py->depth || !py->nentries ||
	    py->nentries > RAMPA_PY_MAX_ENTRIES)
		return false;
	for (uint32_t k = 0; k < py->nentries && start < py->depth; k++) {
		uint64_t a = py->entries[k];
		uint32_t end = py->entry_depths[k], l;

		/* No frames of its own (a shim frame), or not on this stack: 3.14+
		 * ends every thread's frame chain in a base frame kept in the
		 * thread state, which starts no C call.
		 */
		if (end <= start || end > py->depth || a < sps[0] ||
		    a >= sps[nsps - 1] + OUTER_FRAME_BYTES)
			continue;
		/* Leaf first: frame l's own stack is [sps[l], sps[l + 1]). */
		for (l = from; l < nnative && l < nsps; l++)
			if (sps[l] && a >= sps[l] &&
			    (l + 1 >= nsps ? a < sps[l] + OUTER_FRAME_BYTES : a < sps[l + 1]))
				break;
		if (l >= nnative || l >= nsps)
			return false;
		for (uint32_t j = start; j < end; j++)
			home[j] = (int)l;
		start = end;
		from = l + 1;
	}
	return start == py->depth;
}

/* Native frames (root first) with each eval-loop frame replaced by the run of
 * Python frames it executed: placed by address (stacks__place_runs), else by
 * the eval loop's name when the counts agree; else returns false.
 */
bool stacks__splice(struct stacks *b, const struct capture_sample *s, uint32_t *frames, uint32_t *n)
{
	const struct py_stack *py = s->py;
	uint32_t out = *n, runs = 0, evals = 0, native[STACKS_MAX_NATIVE], nnative, naddr, last, lf;
	bool missing = false, placed, eval[STACKS_MAX_NATIVE] = { false }, outer[STACKS_MAX_NATIVE];
	uint8_t addr[STACKS_MAX_NATIVE];
	int j, home[RAMPA_PY_MAX_DEPTH];

	for (uint32_t i = 0; i < py->depth; i++)
		runs += (py->frames[i].flags & PY_FRAME_ENTRY) != 0;
	/* The outermost run may lack a marker: the walk ends at its root. */
	if (py->depth && !(py->frames[py->depth - 1].flags & PY_FRAME_ENTRY))
		runs++;
	nnative = native_frames(b, s, native, addr, outer, &naddr);
	lf = nnative;
	placed = stacks__place_runs(py, (const uint64_t *)s->usp, s->nustack, naddr, home);
	/* From the address's index (leaf first) to its function's frame (root
	 * first, before its inlined calls).
	 */
	for (uint32_t k = 0; placed && k < py->depth; k++) {
		uint32_t f;

		for (f = 0; f < nnative; f++)
			if (outer[f] && addr[f] == (uint8_t)home[k])
				break;
		if (f >= nnative) {
			placed = false;
			break;
		}
		home[k] = (int)f;
		evals += !eval[f];
		eval[f] = true;
	}
	if (!placed) {
		memset(eval, 0, sizeof(eval));
		evals = 0;
		for (uint32_t i = 0; i < nnative; i++) {
			eval[i] = outer[i] &&
				  stacks__is_eval_frame(profile__frame_name(b->prof, native[i]));
			evals += eval[i];
		}
		/* A leaf function without its own frame (-momit-leaf-frame-pointer)
		 * hides its caller: when that is the one eval frame missing, the
		 * topmost run sits right above the leaf. Not when no eval frame
		 * was recognised at all (a stripped interpreter): the runs' places
		 * are then unknown, not missing.
		 */
		while (lf > 0 && addr[lf - 1] == 0)
			lf--; /* the leaf address's first frame (its inlined calls follow) */
		missing = evals >= 1 && evals + 1 == runs && lf > 0 && lf < nnative && !eval[lf];
	}
	if ((!placed && ((!evals && !missing) || (evals != runs && !missing))) || py->truncated ||
	    s->py_status == PY_READ_FAILED) {
		p_debug("splice: %u eval frames, %u Python runs in %u frames", evals, runs,
			py->depth);
		return false;
	}
	/* Frames past the last run that are all the interpreter's own are the
	 * work of that run's leaf frame: its self time. Frames that lead out
	 * of the interpreter (a C extension, libc) stay, with what they call.
	 */
	last = nnative;
	for (uint32_t i = nnative; i-- > 0;)
		if (eval[i] || (missing && i == lf)) {
			last = i;
			break;
		}
	if (last < nnative) {
		uint32_t keep = missing && last == lf ? nnative : last + 1;
		bool own = keep < nnative;

		for (uint32_t i = keep; i < nnative && own; i++)
			own = python__in_interpreter(b->py, s->pid, s->ustack[addr[i]]);
		if (own) {
			nnative = keep;
			b->stats.interp_leaf += s->kind == KIND_CPU ? s->count : 0;
		}
	}
	j = (int)py->depth - 1; /* next Python frame, walking root to leaf */
	for (uint32_t i = 0; i < nnative; i++) {
		if (!eval[i] && !(missing && i == lf)) {
			frames[out++] = native[i];
			continue;
		}
		if (placed) {
			/* The frames the address placed in this eval-loop call. */
			while (j >= 0 && (uint32_t)home[j] == i)
				frames[out++] = python_frame(b, s, &py->frames[j--]);
		} else {
			/* One run: frames up to the next entry marker nearer the leaf. */
			do {
				frames[out++] = python_frame(b, s, &py->frames[j]);
				j--;
			} while (j >= 0 && !(py->frames[j].flags & PY_FRAME_ENTRY));
		}
		if (!eval[i])
			frames[out++] = native[i];
	}
	*n = out;
	return true;
}

/* Python frames root to leaf, then the native leaf if it is outside the
 * interpreter (a C extension, libc): without frame pointers in the
 * interpreter, native frames beyond the leaf are not trustworthy.
 */
void stacks__python_then_leaf(struct stacks *b, const struct capture_sample *s, uint32_t *frames,
			      uint32_t *n)
{
	const struct py_stack *py = s->py;
	char buf[FOLDED_MAX_FRAME + 1];

	/* The walk stopped at unreadable memory: the frames rootward of it
	 * are missing, and the stack says so.
	 */
	if (s->py_status == PY_READ_FAILED) {
		frames[(*n)++] = profile__intern(b->prof, PY_FRAME_UNREADABLE);
		if (!b->cur_unnamed)
			b->cur_unnamed = PY_NAME_UNREADABLE;
	}
	if (py->truncated) {
		snprintf(buf, sizeof(buf), "[truncated: deeper than %d Python frames]",
			 RAMPA_PY_MAX_DEPTH);
		frames[(*n)++] = profile__intern(b->prof, buf);
	}
	for (int i = (int)py->depth - 1; i >= 0; i--)
		frames[(*n)++] = python_frame(b, s, &py->frames[i]);
	if (s->nustack && !python__in_interpreter(b->py, s->pid, s->ustack[0])) {
		const char *const *names;
		uint32_t ids[SYMBOLIZER_MAX_FRAMES];
		unsigned int k = user_frames(b, s->pid, s->ustack[0], true, &names, ids);

		while (k)
			frames[(*n)++] = ids[--k];
	}
}

/* "NAME-TID": the thread's latest name (pythreads.h), "thread" when none
 * could be read.
 */
static void thread_label(struct stacks *b, pid_t pid, uint32_t tid, char *buf, size_t len)
{
	const char *name = pythreads__name(b->pt, pid, (pid_t)tid);

	snprintf(buf, len, "%s-%u", name && name[0] ? name : "thread", tid);
}

static uint32_t thread_frame(struct stacks *b, pid_t pid, uint32_t tid)
{
	char label[PYTHREADS_MAX_NAME_CHARS * 4 + 32];
	bool added;
	uint64_t *v = u64map_slot(&b->tnames, (uint64_t)(uint32_t)pid << 32 | tid, &added);

	/* A frame of its own: renamed later, it must not rename a process frame
	 * ("NAME-PID" of --per-process) that reads the same now.
	 */
	if (added) {
		thread_label(b, pid, tid, label, sizeof(label));
		*v = profile__add_unlisted(b->prof, label);
	}
	return (uint32_t)*v;
}

uint32_t stacks__thread_frame(struct stacks *b, pid_t pid, uint32_t tid)
{
	return thread_frame(b, pid, tid);
}

/* Names given since a thread frame was made rename it: a thread is shown
 * under its latest name, in every stack.
 */
void stacks__rename_threads(struct stacks *b)
{
	char label[PYTHREADS_MAX_NAME_CHARS * 4 + 32];

	for (size_t i = 0; i < b->tnames.cap; i++) {
		const struct u64map_slot *t = &b->tnames.slots[i];

		if (!u64map_used(&b->tnames, i))
			continue;
		thread_label(b, (pid_t)(t->key >> 32), (uint32_t)t->key, label, sizeof(label));
		profile__rename_frame(b->prof, (uint32_t)t->val, label);
	}
}

/* Kernel frames root first. A stack taken in a tracepoint ends in the BPF
 * machinery that took it: those leaf frames are ours, not the target's.
 */
static uint32_t kernel_frames(struct stacks *b, const struct capture_sample *s, uint32_t *out)
{
	uint32_t n = 0, skip = 0;
	char buf[FOLDED_MAX_FRAME + 1];

	/* With sites, a frame per kernel address, named at the end: reading
	 * /proc/kallsyms (tens of ms of CPU, at the first kernel frame) is not
	 * done while the target runs. The BPF machinery's frames go then.
	 */
	if (b->sites) {
		for (int i = (int)s->nkstack - 1; i >= 0; i--) {
			bool added;
			uint64_t *v = u64map_slot(&b->ksites, s->kstack[i], &added);

			if (added) {
				snprintf(buf, sizeof(buf), "0x%" PRIx64 "_[k]",
					 (uint64_t)s->kstack[i]);
				*v = profile__add_unlisted(b->prof, buf);
			}
			out[n++] = (uint32_t)*v;
		}
		return n;
	}

	for (; skip < s->nkstack; skip++) {
		symbolizer__kernel(b->sym, s->kstack[skip], buf, sizeof(buf));
		if (strncmp(buf, "bpf_", 4) && strncmp(buf, "__bpf_", 6))
			break;
	}
	for (int i = (int)s->nkstack - 1; i >= (int)skip; i--) {
		symbolizer__kernel(b->sym, s->kstack[i], buf, sizeof(buf));
		out[n++] = profile__intern(b->prof, buf);
	}
	return n;
}

/* The stacks of a thread asleep since before the run, taken from memory and
 * /proc while it still sleeps: Python frames, then kernel frames.
 */
uint32_t stacks__sleeper(struct stacks *b, pid_t pid, pid_t tid, struct py_stack *py,
			 uint32_t *frames)
{
	uint32_t n = 0, kframes[RAMPA_MAX_STACK_DEPTH], nk = 0;
	struct capture_sample fake = { .pid = pid };
	char path[96], line[256];
	FILE *f;

	/* Kernel frames, leaf first: "[<0>] do_nanosleep+0x6c/0x140". */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)pid, (int)tid);
	f = fopen(path, "re");
	while (f && nk < RAMPA_MAX_STACK_DEPTH && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, ' ');

		if (!name)
			continue;
		name++;
		name[strcspn(name, "+ \n")] = '\0';
		snprintf(path, sizeof(path), "%s_[k]", name);
		kframes[nk++] = profile__intern(b->prof, path);
	}
	if (f)
		fclose(f);
	if (!python__snapshot(b->py, pid, tid, py) && py->depth) {
		fake.py = py;
		stacks__python_then_leaf(b, &fake, frames, &n);
	} else {
		frames[n++] = profile__intern(b->prof, "[asleep since before the run]");
	}
	while (nk)
		frames[n++] = kframes[--nk];
	return n;
}
uint32_t stacks__snapshot_new(struct stacks *b)
{
	grow_array((void **)&b->snaps, &b->snaps_cap, b->nsnaps + 1, sizeof(*b->snaps));
	b->snaps[b->nsnaps] = (struct snapshot){ NULL, 0 };
	return (uint32_t)++b->nsnaps;
}

void stacks__snapshot_set(struct stacks *b, uint32_t id, const uint32_t *frames, uint32_t n)
{
	struct snapshot *sn;

	if (!id || id > b->nsnaps)
		return;
	sn = &b->snaps[id - 1];
	free(sn->frames);
	sn->frames = xmalloc((n ? n : 1) * sizeof(*frames));
	memcpy(sn->frames, frames, n * sizeof(*frames));
	sn->n = n;
}

uint32_t stacks__build(struct stacks *b, const struct capture_sample *s, uint32_t *frames,
		       uint32_t n, enum py_name *unnamed)
{
	uint32_t body;

	b->cur_unnamed = PY_NAMED;
	if (b->opts.per_thread)
		frames[n++] = thread_frame(b, s->pid, s->tid);
	body = n;
	if (s->snap_id == RAMPA_SNAP_UNTAKEN) {
		frames[n++] = profile__intern(b->prof, "[asleep since before the run: woke "
						       "before its stack was taken]");
	} else if (s->snap_id == RAMPA_SNAP_UNREPORTED) {
		frames[n++] = profile__intern(b->prof, "[off-cpu: switch not reported by the "
						       "kernel, no stack]");
	} else if (s->snap_id && s->snap_id <= b->nsnaps) {
		const struct snapshot *sn = &b->snaps[s->snap_id - 1];

		memcpy(frames + n, sn->frames, sn->n * sizeof(*frames));
		n += sn->n;
	} else if (s->py && s->py->depth) {
		uint32_t start = n;

		/* A native stack is whole when the interpreter has frame pointers
		 * or the CFI unwinder reached its root.
		 */
		if ((python__has_frame_pointers(b->py, s->pid) || s->unwind_status == UNWIND_OK) &&
		    stacks__splice(b, s, frames, &n)) {
			b->stats.spliced += s->kind == KIND_CPU ? s->count : 0;
		} else {
			uint64_t cpu = s->kind == KIND_CPU ? s->count : 0;

			n = start;
			/* Without frame pointers: what lies between the root and
			 * the Python frames is unknown; the stack says so.
			 */
			if (b->cfi && !python__has_frame_pointers(b->py, s->pid) &&
			    s->unwind_status == UNWIND_NONE) {
				frames[n++] = profile__intern(b->prof, STACKS_NO_TABLES_YET);
				b->stats.leaf_no_tables += cpu;
			} else if (b->cfi && !python__has_frame_pointers(b->py, s->pid) &&
				   s->unwind_status != UNWIND_OK) {
				frames[n++] = profile__intern(b->prof, STACKS_NATIVE_CUT);
				b->stats.leaf_cut += cpu;
			}
			stacks__python_then_leaf(b, s, frames, &n);
			b->stats.leaf_only += cpu;
		}
	} else {
		uint32_t naddr;

		n += native_frames(b, s, frames + n, NULL, NULL, &naddr);
		if (s->py_status == PY_READ_FAILED || s->py_status == PY_MAP_FULL)
			frames[n++] = profile__intern(b->prof, "[python stack lost]");
	}
	n += kernel_frames(b, s, frames + n);
	/* In wall time, say which time was not spent running. */
	if (b->opts.wall_markers && s->kind == KIND_OFFCPU_BLOCKED)
		frames[n++] = profile__intern(b->prof, "[off-cpu]");
	else if (b->opts.wall_markers && s->kind == KIND_OFFCPU_RUNNABLE)
		frames[n++] = profile__intern(b->prof, "[runqueue]");
	if (n == body)
		frames[n++] = profile__intern(
		    b->prof, s->kind == KIND_GIL_WAIT ? "[no Python frame: thread start or exit]"
						      : "[no stack]");
	*unnamed = b->cur_unnamed;
	return n;
}

void stacks__warm(struct stacks *b, const struct capture_sample *s)
{
	const char *const *names;
	uint32_t ids[SYMBOLIZER_MAX_FRAMES];

	if (b->opts.per_thread)
		thread_frame(b, s->pid, s->tid);
	/* With sites, the site's frame is made now: its file is kept. */
	for (uint32_t i = 0; i < s->nustack; i++)
		if (b->sites)
			user_frames(b, s->pid, s->ustack[i], i == 0, &names, ids);
		else
			symbolizer__user_frames(b->sym, s->pid, s->ustack[i], i == 0, &names);
}

static bool of_pid(const struct u64map_slot *e, void *ctx)
{
	return (pid_t)(e->key >> 32) == *(const pid_t *)ctx;
}

void stacks__forget_pid(struct stacks *b, pid_t pid)
{
	u64map_del_if(&b->tnames, of_pid, &pid);
}

void stacks__set_profile(struct stacks *b, struct profile *prof)
{
	for (size_t i = 0; i < b->nsnaps; i++)
		for (uint32_t j = 0; j < b->snaps[i].n; j++)
			b->snaps[i].frames[j] = profile__intern(
			    prof, profile__frame_name(b->prof, b->snaps[i].frames[j]));
	u64map_free(&b->tnames);
	u64map_free(&b->site_frames);
	u64map_free(&b->site_mods);
	u64map_free(&b->ksites);
	b->prof = prof;
}

/* A site frame of the old profile as frames of the new one, root first
 * (the function, then the calls inlined in it); n 0: not a site.
 */
struct named_site {
	uint32_t ids[SYMBOLIZER_MAX_FRAMES];
	uint32_t n;
	bool bpf; /* a kernel frame of the BPF machinery that took the stack */
};

/* frames[0..n) of the old profile into out (room for STACKS_MAX_FRAMES),
 * each site as its frames; inlined calls that do not fit are left out,
 * counted. The new length.
 */
static uint32_t expand_frames(struct stacks *b, const uint32_t *map, const struct named_site *ns,
			      const uint32_t *frames, uint32_t n, uint32_t *out)
{
	uint32_t k = 0, end, keep;

	for (uint32_t j = 0; j < n; j++) {
		const struct named_site *e = &ns[frames[j]];

		if (!e->n) {
			out[k++] = map[frames[j]];
		} else if (k + e->n + (n - j - 1) > STACKS_MAX_FRAMES) {
			/* Room for the rest, a frame each: this site's function only. */
			b->stats.inline_cut += e->n - 1;
			out[k++] = e->ids[0];
		} else {
			memcpy(out + k, e->ids, e->n * sizeof(*out));
			k += e->n;
		}
	}
	/* A stack taken in a tracepoint ends in the BPF machinery that took
	 * it (before a wall-time marker, if any): those leaf frames are ours.
	 */
	end = n;
	if (end && !ns[frames[end - 1]].n && n > 1 && ns[frames[end - 2]].bpf)
		end--;
	keep = end;
	while (keep > 1 && ns[frames[keep - 1]].bpf)
		keep--;
	if (keep < end) {
		uint32_t tail = n - end; /* the marker, one frame, or none */

		memmove(out + k - tail - (end - keep), out + k - tail, tail * sizeof(*out));
		k -= end - keep;
	}
	return k;
}

void stacks__name_sites(struct stacks *b, bool keep_addresses)
{
	struct profile *p = b->prof, *out;
	size_t nf = profile__nframes(p), ns = profile__nstacks(p);
	uint32_t *map, frames[STACKS_MAX_FRAMES];
	uint64_t *keys;
	struct named_site *named;
	size_t *smap;

	if (!b->sites)
		return;
	out = profile__new();
	profile__copy_meta(out, p);
	map = xmalloc((nf ? nf : 1) * sizeof(*map));
	keys = xcalloc(nf ? nf : 1, sizeof(*keys));
	named = xcalloc(nf ? nf : 1, sizeof(*named));
	smap = xmalloc((ns ? ns : 1) * sizeof(*smap));
	for (size_t i = 0; i < b->site_frames.cap; i++)
		if (u64map_used(&b->site_frames, i) && b->site_frames.slots[i].val < nf)
			keys[b->site_frames.slots[i].val] = b->site_frames.slots[i].key;
	/* Kernel frames: by kallsyms, read now. */
	for (size_t i = 0; i < b->ksites.cap; i++) {
		const struct u64map_slot *e = &b->ksites.slots[i];
		char buf[FOLDED_MAX_FRAME + 1];
		struct named_site *ks;

		if (!u64map_used(&b->ksites, i) || e->val >= nf)
			continue;
		ks = &named[e->val];
		symbolizer__kernel(b->sym, e->key, buf, sizeof(buf));
		ks->ids[0] = profile__intern(out, buf);
		ks->n = 1;
		ks->bpf = !strncmp(buf, "bpf_", 4) || !strncmp(buf, "__bpf_", 6);
		if (ks->bpf)
			p_debug("kernel frame %s: the BPF machinery, left out at the leaf", buf);
		map[e->val] = ks->ids[0];
	}
	for (uint32_t i = 0; i < nf; i++) {
		const char *const *names;
		struct named_site *e = &named[i];
		uint32_t module, mod;
		uint64_t addr;
		unsigned int k;

		if (e->n) /* a kernel frame */
			continue;
		if (!keys[i] || !profile__frame_address(p, i, &module, &addr)) {
			map[i] = profile__copy_frame(out, p, i);
			continue;
		}
		k = symbolizer__site_frames(b->sym, (uint32_t)(keys[i] >> 48),
					    keys[i] & (SYMBOLIZER_MAX_SITE_ADDR - 1), &names);
		/* Root first: the function (by its address when kept), then
		 * the calls inlined in it.
		 */
		mod = keep_addresses ? profile__add_module(out, profile__module(p, module)) : 0;
		e->ids[0] = mod ? profile__add_native(out, names[k - 1], mod, addr)
				: profile__intern(out, names[k - 1]);
		for (e->n = 1; e->n < k; e->n++)
			e->ids[e->n] = profile__intern(out, names[k - 1 - e->n]);
		/* Markers name the innermost frame. */
		map[i] = e->ids[e->n - 1];
	}
	for (size_t i = 0; i < ns; i++) {
		uint32_t n, m;
		uint64_t w;
		const uint32_t *f = profile__stack(p, i, &n, &w);

		m = expand_frames(b, map, named, f, n, frames);
		smap[i] = profile__add(out, frames, m, w);
		profile__copy_slices(out, smap[i], p, i);
	}
	profile__copy_markers(out, p, map, 0, -1e300, 1e300);
	profile__copy_sample_times(out, p, smap);
	/* Snapshots of sleeping threads too. */
	for (size_t i = 0; i < b->nsnaps; i++) {
		struct snapshot *sn = &b->snaps[i];
		uint32_t m = expand_frames(b, map, named, sn->frames, sn->n, frames);

		free(sn->frames);
		sn->frames = xmalloc((m ? m : 1) * sizeof(*frames));
		memcpy(sn->frames, frames, m * sizeof(*frames));
		sn->n = m;
	}
	u64map_free(&b->tnames);
	u64map_free(&b->site_frames);
	u64map_free(&b->site_mods);
	u64map_free(&b->ksites);
	profile__replace(p, out);
	free(map);
	free(keys);
	free(named);
	free(smap);
}
