/* SPDX-License-Identifier: GPL-2.0 */
/* Unwind tables for the BPF stack walker (bpf/unwind.bpf.h): each ELF file a
 * target maps executable is read once with elfutils' libdw, its .eh_frame
 * compiled to rows (struct unwind_row), and the rows shared by every process
 * that maps the file (found by GNU build id, else by device, inode, size and
 * mtime). Rows live in one bounded kernel array: tables no process uses are
 * evicted when room is needed, and a table that still does not fit is not
 * loaded (its code is walked by frame pointers), which is counted.
 * Compiled tables are kept on disk by build id (RAMPA_UNWIND_CACHE, default
 * /var/cache/rampa-bpf/unwind; "" for none) for the next run.
 */
#ifndef RAMPA_UNWIND_H
#define RAMPA_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"

struct capture;
struct proc_maps;
struct unwind;

struct unwind_stats {
	uint64_t procs;		  /* processes given tables */
	uint64_t files;		  /* distinct files given tables */
	uint64_t cached;	  /* ... of them read from the disk cache */
	uint64_t rows;		  /* rows loaded (all tables, over the run) */
	uint64_t build_ns;	  /* time spent compiling tables */
	uint64_t no_cfi;	  /* files without usable .eh_frame: frame pointers only */
	uint64_t rows_bad;	  /* rows with a rule the walker cannot follow */
	uint64_t evicted;	  /* tables evicted to make room */
	uint64_t not_loaded;	  /* tables not loaded: no room even after eviction */
	uint64_t maps_dropped;	  /* executable mappings beyond RAMPA_UNWIND_MAPS */
	uint64_t procs_dropped;	  /* processes not given tables: unwind_procs full */
	uint64_t files_forgotten; /* files' facts let go at UNWIND_FILES_MAX (read again) */
};

/* Files whose build id and segments are remembered (by device, inode, size
 * and mtime), so that a process of a known program costs a stat() per
 * mapping; past it all are let go.
 */
#define UNWIND_FILES_MAX 4096

/* A table compiled from an ELF file's .eh_frame: rows sorted by pc, owned
 * by the caller (free()). Exposed for test-tool. 0, or -1 with *why set to
 * a static string when the file has no usable CFI.
 */
int unwind__compile_file(int fd, struct unwind_row **rows, size_t *nrows, size_t *nbad,
			 const char **why);

/* A table cache writing into c's maps; NULL when c is NULL (no kernel
 * side: then every function below does nothing).
 */
struct unwind *unwind__new(struct capture *c);
void unwind__free(struct unwind *u);
/* (Re)read pid's executable mappings (or take maps, read just now; NULL:
 * read them) and give the kernel their tables,
 * compiling the files not seen before (with compile false: only tables in
 * memory or in the disk cache, which take a millisecond; the others are
 * left to a later call). 0, or -1 when pid's maps cannot be read (it
 * exited) or it cannot be given tables (counted).
 */
int unwind__update(struct unwind *u, pid_t pid, const struct proc_maps *maps, bool compile);
/* pid exited: its mappings go, and the tables only it used become evictable. */
void unwind__forget(struct unwind *u, pid_t pid);
const struct unwind_stats *unwind__stats(const struct unwind *u);

#endif
