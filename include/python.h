/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PYTHON_H
#define RAMPA_PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>
#include "capture.h"

/* CPython support: finds the interpreter in a process and tells the BPF
 * walker how to read it (struct py_proc), then names the (code object,
 * bytecode offset) pairs the walker returns, from the target's memory.
 */
struct python;
struct symbolizer;

/* What naming Python frames cost and lost. */
struct python_stats {
	uint64_t code_events;	/* code objects named by the kernel at first sight */
	uint64_t memory_reads;	/* code objects (partly) read from a target's memory */
	uint64_t lines_unknown; /* lines past a line table cut at PY_CODE_LINETABLE_BYTES */
	uint64_t names_cut;	/* names longer than PY_CODE_STR_BYTES: middle cut */
	uint64_t labels_cut;	/* code objects whose label was over the limit: cut */
	uint64_t invalid_chars; /* characters that were not text, replaced by U+FFFD */
	uint64_t codes_dropped; /* code objects' names let go with their process */
	uint64_t codes_held;	/* code objects whose names are held now */
};

/* The frame that stands for one whose code object could not be named. */
#define PY_FRAME_UNREADABLE "[python frame unreadable]"
/* Marks where the middle of a long name or path was cut. */
#define PY_CUT_MARK "[\u2026]"

struct python *python__new(void);
void python__free(struct python *py);

enum python_inspect {
	PYTHON_NONE = 0,	/* no CPython in the process (yet) */
	PYTHON_FOUND = 1,	/* *out describes it */
	PYTHON_UNSUPPORTED = 2, /* CPython, but a version or build we cannot walk */
	/* 3.13+ whose _Py_DebugOffsets do not read yet: the loader may be
	 * mid-way through mapping libpython's segments. Nothing is kept; look
	 * again, or give up with python__set_unsupported().
	 */
	PYTHON_NOT_READY = 3,
};

/* Look for CPython in pid. On PYTHON_UNSUPPORTED and PYTHON_NOT_READY, why
 * gets the reason.
 */
enum python_inspect python__inspect(struct python *py, struct symbolizer *sym, pid_t pid,
				    struct py_proc *out, char *why, size_t why_len);
/* pid runs a CPython that will not be walked (PYTHON_NOT_READY for too
 * long): python__checked() is true from now on.
 */
void python__set_unsupported(struct python *py, pid_t pid);
/* True once pid was found to run CPython, walkable or not. */
bool python__checked(struct python *py, pid_t pid);
/* Forget what is known of pid (exec, exit). */
void python__forget(struct python *py, pid_t pid);
/* pid exited or exec'd, and every sample it had counted was named: the
 * names of its code objects are set aside, no longer found for pid. They
 * still name frames by id until python__release_codes(), so samples still
 * in flight resolve. For each code object the kernel gave an id, drop (may
 * be NULL) gets its address: take it out of the kernel's map, so that a
 * later process with this PID gets new ids. Returns how many were set aside.
 */
size_t python__retire_codes(struct python *py, pid_t pid,
			    void (*drop)(pid_t pid, uint64_t addr, void *ctx), void *ctx);
/* Free the names set aside by python__retire_codes() so far: call it after
 * a drain that followed, when no sample can carry their ids any more.
 */
void python__release_codes(struct python *py);
/* Address of the GIL state in pid, 0 while the interpreter is not set up. */
uint64_t python__gil(struct python *py, pid_t pid);
/* The address of code_dealloc in pid (PyCode_Type's tp_dealloc), found from
 * the code object at code (read now; its type must be named "code") and put
 * in *dealloc. Returns 0, -EAGAIN when pid is not read yet or code cannot be
 * read as a code object (freed since: another may do), -ENOTSUP when pid's
 * interpreter is not supported.
 */
int python__code_dealloc(struct python *py, pid_t pid, uint64_t code, uint64_t *dealloc);
/* Kernel thread id of a thread state of pid (through its pthread), 0 if unknown. */
pid_t python__tstate_tid(struct python *py, pid_t pid, uint64_t tstate);
/* Describe the interpreter found in pid, e.g. "CPython 3.11 (/usr/bin/python3.11)". */
const char *python__describe(struct python *py, pid_t pid);
/* True when addr lies in the interpreter's own code (exe or libpython). */
bool python__in_interpreter(struct python *py, pid_t pid, uint64_t addr);
/* True when the interpreter keeps frame pointers, so native stacks through
 * it are whole and Python frames can be spliced at the eval-loop frames.
 */
bool python__has_frame_pointers(struct python *py, pid_t pid);
/* Walk the Python stack of thread tid from userspace, as the BPF walker does,
 * for threads that were already asleep when profiling began and for dump:
 * frames, and where each run entered the eval loop (entries, entry_depths),
 * as the kernel gives them. 0 on success.
 */
int python__snapshot(struct python *py, pid_t pid, pid_t tid, struct py_stack *out);
/* The names of a code object, copied by the kernel at first sight: frames
 * name it by e->id from then on. Must be called before those frames are.
 */
void python__code_event(struct python *py, const struct py_code_event *e);
/* Why a frame was or was not named. */
enum py_name {
	PY_NAMED = 0,
	PY_NAME_UNREADABLE = 1, /* code object or its names unreadable at the sample */
	PY_NAME_LOST = 2,	/* the kernel could not hand its names over (buffer full) */
	PY_NAME_UNKNOWN = 3,	/* a code id whose names never arrived */
	PY_NAME__MAX,
};

/* Name frame f of process pid: "qualname (file.py:LINE)" in buf (len bytes;
 * labels over len keep both ends of the path, then of the qualname, around
 * PY_CUT_MARK). Anything but PY_NAMED leaves PY_FRAME_UNREADABLE in buf:
 * a frame that cannot be named truthfully is never guessed.
 */
enum py_name python__frame_name(struct python *py, pid_t pid, const struct py_frame *f, char *buf,
				size_t len);
/* A CPython str as UTF-8 from its state word, length in characters and the
 * nbytes bytes of characters kept (the first and last halves when fewer than
 * the string has: PY_CUT_MARK marks the cut and *cut is set). Characters that
 * are not text (NUL, surrogates, past U+10FFFF) become U+FFFD, counted in
 * *nbad. Returns a malloc'd string, or NULL for an invalid kind or length.
 */
char *python__decode_str(uint32_t state, int64_t length, const uint8_t *data, uint32_t nbytes,
			 unsigned int *nbad, bool *cut);
const struct python_stats *python__stats(const struct python *py);

/* Line of a bytecode byte offset, from a code object's line table, as
 * CPython computes it for the given minor version (9..15). -1: no line.
 */
int python__line(int minor, const uint8_t *tab, int n, int firstlineno, int addr);

/* For other readers of pid's memory: the minor version (9..15) of its
 * CPython, or -1 when none was found or it cannot be walked; its _PyRuntime
 * address (0: none); its main interpreter state (0: none or not set up yet).
 */
int python__minor(struct python *py, pid_t pid);
uint64_t python__runtime(struct python *py, pid_t pid);
uint64_t python__interp(struct python *py, pid_t pid);

#endif
