/* SPDX-License-Identifier: GPL-2.0 */
/* The sizes of the BPF maps that bound what a run can hold: one table of
 * defaults (capture_maps[] in src/capture_maps.c), set on the maps between
 * open and load (bpf_map__set_max_entries). A command that needs other sizes
 * says so in its session options (session_opts.map_entries), never by
 * editing the table. Each limit, when reached, is counted by the stat named
 * in its row and shown in the summary.
 */
#ifndef RAMPA_CAPTURE_MAPS_H
#define RAMPA_CAPTURE_MAPS_H

#include <stdint.h>

enum capture_map_limit {
	CMAP_TARGETS,	       /* target processes alive at once */
	CMAP_SEEN,	       /* processes whose first sample was announced */
	CMAP_STACKS,	       /* distinct on-CPU stacks per drain window */
	CMAP_COUNTS,	       /* distinct sample keys per drain window */
	CMAP_EVENT_RING,       /* process events between two polls (bytes) */
	CMAP_EXIT_RUNTIME,     /* processes whose exited threads' CPU time is kept */
	CMAP_GIL_THREADS,      /* threads measured by gil-wait */
	CMAP_OFFCPU_THREADS,   /* threads with an open off-CPU interval */
	CMAP_OFFCPU_STACKS,    /* distinct off-CPU, GIL-wait and memory user stacks */
	CMAP_OFFCPU_SITES,     /* places threads left the CPU, kernel walk skipped */
	CMAP_PY_PROCS,	       /* Python processes the walker reads */
	CMAP_PY_TSTATES,       /* threads whose thread state is cached */
	CMAP_PY_STACKS,	       /* distinct on-CPU Python stacks per drain window */
	CMAP_OFFCPU_PY_STACKS, /* distinct off-CPU and GIL-wait Python stacks */
	CMAP_PY_CODES,	       /* code objects given an id */
	CMAP_PY_CODE_RING,     /* code events between two drains (bytes) */
	CMAP_MEM_RING,	       /* memory events between two polls (bytes) */
	CMAP_MEM_STACKS,       /* distinct memory stacks walked by frame pointers */
	CMAP_MEM_PY_STACKS,    /* distinct memory Python stacks */
	CMAP_MEM_CALLS,	       /* threads inside a memory syscall at once */
	CMAP_UNWIND_ROWS,      /* CFI rows of every loaded unwind table */
	CMAP_UNWIND_TABLES,    /* unwind tables (ELF files) loaded at once */
	CMAP_UNWIND_PROCS,     /* processes walked by the CFI unwinder */
	CMAP_INTERVAL_RING,    /* wait intervals for markers between two polls (bytes) */
	CMAP_SAMPLE_TIME_RING, /* on-CPU sample instants between two polls (bytes) */
	CMAP_SHORT_WAIT_RING,  /* waits too short for a marker between two polls (bytes) */
	CMAP_MEM_BLOCKS,       /* mem --precise: live allocator blocks tracked */
	CMAP_MEM_ALLOC_CALLS,  /* mem --precise: threads inside an allocator call */
	CMAP_MEM_VMAS,	       /* processes whose last faulted mappings are remembered */
	CMAP_PROC_NAMES,       /* processes' names kept by the kernel until read */
	CMAP__MAX,
};

/* The hooks a limit's maps serve (capture_map_size.needs): a run without
 * any of them gets those maps at their smallest (one entry, a ring buffer
 * one page), unless its command sized them. Kernel memory and, above all,
 * attach time: a preallocated hash map is allocated and cleared whole at
 * load.
 */
#define CMAP_FOR_OFFCPU	      (1u << 0) /* the scheduler hook (wall, offcpu) */
#define CMAP_FOR_GIL	      (1u << 1) /* GIL waits (gil-wait) */
#define CMAP_FOR_MEM	      (1u << 2) /* memory growth (mem) */
#define CMAP_FOR_INTERVALS    (1u << 3) /* intervals sent (markers, slices) */
#define CMAP_FOR_SAMPLE_TIMES (1u << 4) /* sample instants (gecko) */

struct capture_map_size {
	const char *name;     /* the limit's name (-v prints the sizes) */
	const char *maps[4];  /* the BPF maps it sizes, NULL-terminated */
	uint32_t entries;     /* default: entries, or bytes for a ring buffer */
	const char *overflow; /* what a full map loses, and where it is counted */
	unsigned int needs;   /* CMAP_FOR_*: used only by these hooks; 0: always */
};

extern const struct capture_map_size capture_maps[CMAP__MAX];

/* The size of limit i: entries[i] when not 0, else the default. */
static inline uint32_t capture_maps__entries(const uint32_t *entries, enum capture_map_limit i)
{
	return entries && entries[i] ? entries[i] : capture_maps[i].entries;
}

#endif
