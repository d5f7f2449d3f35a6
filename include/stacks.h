/* SPDX-License-Identifier: GPL-2.0 */
/* The sample-to-frames step (src/stacks.c): what capture hands over (native
 * and kernel addresses, Python frames by code id) becomes a stack of frame
 * names in a profile. Python frames replace the interpreter's eval-loop
 * frames where frame pointers make that exact, else they stand alone above
 * the native leaf. Needs no privileges: test-tool drives it on hand-made
 * samples.
 *
 * Frame ids are the profile's: every cache here (thread frames, stacks of
 * threads asleep since the start) belongs to one profile and moves with
 * stacks__set_profile().
 */
#ifndef RAMPA_STACKS_H
#define RAMPA_STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

#include "capture.h"
#include "python.h"

struct capture_sample;
struct profile;
struct pythreads;
struct symbolizer;
struct stacks;

/* Frames a built stack can hold: process, process-PID and thread roots,
 * Python frames, native and kernel frames, a marker.
 */
#define STACKS_MAX_FRAMES (4 + RAMPA_PY_MAX_DEPTH + 3 * RAMPA_MAX_STACK_DEPTH)
/* Native frames of one stack, inlined calls included. */
#define STACKS_MAX_NATIVE (2 * RAMPA_MAX_STACK_DEPTH)

struct stacks_opts {
	bool per_thread;   /* "NAME-TID" under the roots (needs a pythreads) */
	bool wall_markers; /* off-CPU intervals end in [off-cpu] or [runqueue] */
};

/* On-CPU samples (counts) by how their Python frames were placed. */
struct stacks_stats {
	uint64_t spliced;   /* in place of the eval-loop frames they ran in */
	uint64_t leaf_only; /* above the native leaf alone (no frame pointers) */
	/* Spliced samples whose frames past the last Python frame were all the
	 * interpreter's own (an object freed, an int added): that time is the
	 * Python frame's own, as cProfile and py-spy count it.
	 */
	uint64_t interp_leaf;
	/* Inlined-call frames left out: the stack had no room for them. */
	uint64_t inline_cut;
	/* Of leaf_only, with the CFI unwinder on (stacks__set_cfi): the
	 * process had no unwind tables yet (its first moments after exec),
	 * or the walk was cut (the cause is counted by capture). Their stacks
	 * start with STACKS_NO_TABLES_YET or STACKS_NATIVE_CUT.
	 */
	uint64_t leaf_no_tables;
	uint64_t leaf_cut;
};

/* Root frames of a stack whose Python frames stand above the native leaf
 * alone because the native stack could not be walked: what is missing
 * between the root and the Python frames.
 */
#define STACKS_NO_TABLES_YET "[native frames unknown: no unwind tables yet]"
#define STACKS_NATIVE_CUT    "[native frames unknown: walk cut]"

/* A builder over prof, naming through sym and py (and pt for thread names,
 * which may be NULL without per_thread); borrows all four. NULL never: an
 * allocation failure exits, as xmalloc does.
 */
struct stacks *stacks__new(struct profile *prof, struct symbolizer *sym, struct python *py,
			   struct pythreads *pt, const struct stacks_opts *o);
void stacks__free(struct stacks *b);

/* Native stacks are walked by the CFI unwinder (unwind.h): a sample not
 * walked (UNWIND_NONE) came before its process had tables.
 */
void stacks__set_cfi(struct stacks *b, bool on);

/* Native frames as sites (symbolize.h): one frame per (file, address),
 * named by its function's symbol while the run lasts; stacks__name_sites
 * names them whole at its end, for the addresses left in the profile.
 */
void stacks__set_sites(struct stacks *b, bool on);

/* With sites: rewrite the profile (the same struct profile) with every
 * site named whole (file:line, inlined calls), stacks that become equal
 * merged. keep_addresses: each site's function frame stays a frame of its
 * own with its module and address (profile__add_native; pprof), else frames
 * of one name are one. Frame ids change: the profile's are new, the ones
 * this builder keeps are carried over; the caller's are stale.
 */
void stacks__name_sites(struct stacks *b, bool keep_addresses);

/* Append s's stack to frames[0..n) (the roots the caller put there; room
 * for STACKS_MAX_FRAMES in all): thread frame, the stack root first, kernel
 * frames, a marker. The new length is returned; *unnamed gets the first
 * reason a Python frame could not be named (PY_NAMED: all were).
 */
uint32_t stacks__build(struct stacks *b, const struct capture_sample *s, uint32_t *frames,
		       uint32_t n, enum py_name *unnamed);

/* The "NAME-TID" frame of thread tid of pid (-T), as stacks__build puts it. */
uint32_t stacks__thread_frame(struct stacks *b, pid_t pid, uint32_t tid);

/* Where Python runs entered the eval loop, the one mechanism record's splice
 * and dump use (3.12+): each run's entry frame (py->entries, recorded by the
 * kernel's walk and by python__snapshot) is a local variable of the
 * _PyEval_EvalFrameDefault call that ran it, so the native frame whose stack
 * slice [sps[l], sps[l + 1]) holds its address is that call, with or
 * without symbols. sps[0..nsps): the stack pointer in each native frame,
 * leaf first; runs are placed in the first nnative frames only. An entry
 * frame with no Python frame of its own or off the thread's C stack (a shim
 * frame, 3.14's base frame) ends no run. home[j] gets the native frame
 * (leaf-first index) of Python frame j, for the py->depth frames. True when
 * every frame is placed, rootward runs in rootward frames; false when not
 * (before 3.12, more than RAMPA_PY_MAX_ENTRIES runs, an entry in no frame).
 */
bool stacks__place_runs(const struct py_stack *py, const uint64_t *sps, uint32_t nsps,
			uint32_t nnative, int *home);

/* The two ways Python frames are placed, for stacks__build and for tests.
 * stacks__splice: native frames (root first) with each eval-loop frame
 * replaced by the run of Python frames it executed (by address, else by the
 * eval loop's name), appended at frames[*n]; false, with frames untouched
 * past *n, when the runs cannot be placed.
 * stacks__python_then_leaf: Python frames root to leaf, then the native
 * leaf if it is outside the interpreter.
 */
bool stacks__splice(struct stacks *b, const struct capture_sample *s, uint32_t *frames,
		    uint32_t *n);
void stacks__python_then_leaf(struct stacks *b, const struct capture_sample *s, uint32_t *frames,
			      uint32_t *n);

/* Whether name is the interpreter's eval loop (_PyEval_EvalFrameDefault or
 * a compiler's clone of it, ".cold" and the like).
 */
bool stacks__is_eval_frame(const char *name);

/* A thread asleep since before the run: its stack from memory (Python, via
 * py->snapshot into *py, scratch the caller owns) and /proc (kernel), into
 * frames; the count returned.
 */
uint32_t stacks__sleeper(struct stacks *b, pid_t pid, pid_t tid, struct py_stack *py,
			 uint32_t *frames);

/* Snapshots: stacks taken by userspace that samples refer to by snap_id.
 * stacks__snapshot_new reserves one (its id, from 1); stacks__snapshot_set
 * gives it frames (copied). An id never set builds an empty body.
 */
uint32_t stacks__snapshot_new(struct stacks *b);
void stacks__snapshot_set(struct stacks *b, uint32_t id, const uint32_t *frames, uint32_t n);

/* Name now what an open off-CPU interval will need when it closes (its
 * thread's name, its native frames): at exit the target's memory is gone.
 */
void stacks__warm(struct stacks *b, const struct capture_sample *s);

/* Threads named since their frame was made are renamed: a thread is shown
 * under its latest name in every stack.
 */
void stacks__rename_threads(struct stacks *b);

/* pid is gone: its thread frames are let go (their names stay in the
 * profile; a new process with the PID gets frames of its own).
 */
void stacks__forget_pid(struct stacks *b, pid_t pid);

/* Build into prof from now on: thread frames are made anew, snapshots are
 * carried over by name. The old profile is the caller's.
 */
void stacks__set_profile(struct stacks *b, struct profile *prof);

const struct stacks_stats *stacks__stats(const struct stacks *b);

#endif
