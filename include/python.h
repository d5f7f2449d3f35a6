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

struct python_stats {
	uint64_t code_reads;	   /* code objects read from targets */
	uint64_t code_read_failed; /* ... that could not be read (freed, process gone) */
};

struct python *python__new(void);
void python__free(struct python *py);

enum python_inspect {
	PYTHON_NONE = 0,	/* no CPython in the process (yet) */
	PYTHON_FOUND = 1,	/* *out describes it */
	PYTHON_UNSUPPORTED = 2, /* CPython, but a version or build we cannot walk */
};

/* Look for CPython in pid. On PYTHON_UNSUPPORTED, why gets the reason. */
enum python_inspect python__inspect(struct python *py, struct symbolizer *sym, pid_t pid,
				    struct py_proc *out, char *why, size_t why_len);
/* True once pid was found to run CPython, walkable or not. */
bool python__checked(struct python *py, pid_t pid);
/* Forget what is known of pid (exec, exit). */
void python__forget(struct python *py, pid_t pid);
/* Address of the GIL state in pid, 0 while the interpreter is not set up. */
uint64_t python__gil(struct python *py, pid_t pid);
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
 * for threads that were already asleep when profiling began. 0 on success.
 */
int python__snapshot(struct python *py, pid_t pid, pid_t tid, struct py_stack *out);
/* Name one frame: "qualname (file.py:LINE)". */
const char *python__frame_name(struct python *py, pid_t pid, uint64_t code, int32_t offset,
			       char *buf, size_t len);
/* A new drain begins: cached code objects are checked again before reuse. */
void python__new_epoch(struct python *py);
const struct python_stats *python__stats(const struct python *py);

/* Line of a bytecode byte offset, from a code object's line table, as
 * CPython computes it for the given minor version (9..15). -1: no line.
 */
int python__line(int minor, const uint8_t *tab, int n, int firstlineno, int addr);

#endif
