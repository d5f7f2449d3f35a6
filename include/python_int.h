/* SPDX-License-Identifier: GPL-2.0 */
/* Inside python (src/python.c, src/pycode.c): what the two files share.
 * python.c finds interpreters and walks threads; pycode.c keeps what names
 * each code object (copied by BPF at first sight, or read from memory) and
 * turns (code, offset) into "qualname (file:line)" with the line tables.
 */
#ifndef RAMPA_PYTHON_INT_H
#define RAMPA_PYTHON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "python.h"

/* glibc's struct pthread keeps the kernel tid here on x86-64 (2.31 to 2.43,
 * see docs/cpython-internals.md); pthread_t points at struct pthread.
 */
#define GLIBC_PTHREAD_TID 0x2d0
#define MAX_LINETABLE	  (1 << 20)
/* Threads of one interpreter a userspace walk maps. */
#define PY_SNAPSHOT_MAX_THREADS 65536
#define CODE_BUCKETS		16384
#define CODE_PID_BUCKETS	1024
#define MAX_INTERP_RANGES	8

/* Where a code object keeps what names a frame. */
struct code_layout {
	uint16_t filename, name, qualname, firstlineno, linetable;
	uint16_t ascii_data, compact_data; /* unicode: sizeof PyASCII/PyCompactUnicodeObject */
};

struct py_target {
	pid_t pid;
	bool unsupported; /* CPython we cannot walk: remembered so it is said once */
	int minor;
	struct py_proc bpf;
	struct code_layout code;
	uint64_t ranges[MAX_INTERP_RANGES][2];
	int nranges;
	bool has_fp;
	/* The GIL: embedded in _PyRuntime (3.9-3.11) or pointed to by the
	 * interpreter (3.12+: interp->ceval.gil).
	 */
	uint64_t gil_runtime_off, gil_interp_ptr_off;
	char describe[320];
	/* Userspace walks: kernel tid -> thread state, from one list walk. */
	struct tstate_map {
		pid_t tid;
		uint64_t tstate;
	} * tmap;
	size_t ntmap, tmap_cap;
	struct py_target *next;
};

#define TARGET_BUCKETS 256

struct python {
	struct py_target *targets[TARGET_BUCKETS];
	struct code_info *codes[CODE_BUCKETS];	    /* by id */
	struct code_info *snap_codes[CODE_BUCKETS]; /* userspace ids, by (pid, addr) */
	struct code_info *by_pid[CODE_PID_BUCKETS]; /* every live entry, by process */
	struct code_info *retired; /* set aside with their process, freed next release */
	uint64_t last_user_id;
	struct python_stats stats;
	/* tid -> thread state of one process, from one walk of its thread list:
	 * snapshots of thousands of threads would otherwise walk it once each.
	 */
	struct tstate_index {
		pid_t pid;
		uint64_t built_ns;
		size_t n, cap;
		struct tstate_entry {
			uint32_t tid;
			uint64_t tstate;
		} * e;
	} tsi;
};

/* What names one code object, as it was when the kernel (or a snapshot)
 * first saw it. Kept while its process lives (ids are never reused), set
 * aside when it exits or execs, freed one drain later.
 */
struct code_info {
	uint64_t id;
	pid_t pid;
	int minor;
	uint64_t addr;
	uint64_t filename_ptr, name_ptr, qualname_ptr, linetable_ptr;
	int firstlineno;
	char *qualname, *filename; /* UTF-8; NULL: unreadable at first sight */
	uint8_t *linetable;	   /* NULL: none read */
	uint32_t linetable_len;
	bool linetable_cut; /* longer than what was copied */
	bool memory_tried;  /* a fallback read from the target was tried */
	bool label_cut;	    /* its label was cut (counted once) */
	struct code_info *next;
	struct code_info *next_addr; /* userspace entries, by (pid, addr) */
	struct code_info *next_pid;  /* by_pid chain, then the retired list */
};

/* A code object at addr named from the target's memory (a snapshot's frame):
 * its id, or 0 if unreadable. pycode.c. */
uint64_t pycode_from_memory(struct python *py, struct py_target *t, uint64_t addr);

/* Every code object entry freed (python__free). pycode.c. */
void pycode_free_all(struct python *py);

/* len bytes at addr of pid's memory: 0, or -1 (a short read too). */
int py_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);

/* The target pid, NULL if not inspected. */
struct py_target *py_target_get(struct python *py, pid_t pid);

#endif
