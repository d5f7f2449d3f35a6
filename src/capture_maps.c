// SPDX-License-Identifier: GPL-2.0
/* The default sizes of the BPF maps that bound a run: see capture_maps.h.
 * The BPF side declares these maps without max_entries, so a map missing
 * here fails to load rather than run with a size nobody chose.
 */
#include <linux/types.h>

#include "capture.h"
#include "capture_maps.h"

const struct capture_map_size capture_maps[CMAP__MAX] = {
	[CMAP_TARGETS] = { "targets",
			   { "targets" },
			   4096,
			   "a forked child is not followed (STAT_TARGETS_FULL)" },
	/* LRU: the oldest announcement is forgotten, and announced again. */
	[CMAP_SEEN] = { "seen", { "seen" }, 8192, "none: least recently used entries leave" },
	[CMAP_STACKS] = { "stacks",
			  { "stacks0", "stacks1", "ustacks0", "ustacks1" },
			  16384,
			  "a sample's native stack (STAT_STACK_MAP_FULL, STAT_UNWIND_STACK_FULL)" },
	[CMAP_COUNTS] = { "counts",
			  { "counts0", "counts1" },
			  16384,
			  "a sample (STAT_COUNT_MAP_FULL)" },
	[CMAP_EVENT_RING] = { "event-ring",
			      { "events" },
			      256 * 1024,
			      "a process event (STAT_EVENTS_LOST)" },
	[CMAP_EXIT_RUNTIME] = { "exit-runtime",
				{ "exit_runtime" },
				16384,
				"exited threads' CPU time (STAT_EXIT_RUNTIME_FULL)" },
	[CMAP_GIL_THREADS] = { "gil-threads",
			       { "gil_waits", "gil_threads" },
			       16384,
			       "a thread's GIL waits (STAT_GIL_MAP_FULL)" },
	[CMAP_OFFCPU_THREADS] = { "offcpu-threads",
				  { "offcpu_start" },
				  16384,
				  "an off-CPU interval (STAT_OFFCPU_MAP_FULL)" },
	[CMAP_OFFCPU_STACKS] = { "offcpu-stacks",
				 { "offcpu_stacks", "offcpu_ustacks" },
				 16384,
				 "an off-CPU stack (STAT_OFFCPU_STACK_FULL, "
				 "STAT_UNWIND_STACK_FULL)" },
	/* LRU: a forgotten site costs one kernel walk more. */
	[CMAP_OFFCPU_SITES] = { "offcpu-sites",
				{ "offcpu_sites" },
				16384,
				"none: least recently used entries leave" },
	[CMAP_PY_PROCS] = { "py-procs",
			    { "py_procs" },
			    1024,
			    "a process's Python frames (warned when it is added)" },
	/* LRU: a forgotten thread state is searched for again. */
	[CMAP_PY_TSTATES] = { "py-tstates",
			      { "py_tstates" },
			      16384,
			      "none: least recently used entries leave" },
	[CMAP_PY_STACKS] = { "py-stacks",
			     { "py_stacks0", "py_stacks1" },
			     4096,
			     "a sample's Python frames (STAT_PY_STACK_MAP_FULL)" },
	[CMAP_OFFCPU_PY_STACKS] = { "offcpu-py-stacks",
				    { "offcpu_py_stacks" },
				    4096,
				    "an interval's Python frames (STAT_PY_STACK_MAP_FULL)" },
	/* LRU: a code object forgotten gets a new id and code event. */
	[CMAP_PY_CODES] = { "py-codes",
			    { "py_codes" },
			    65536,
			    "none: least recently used entries leave" },
	[CMAP_PY_CODE_RING] = { "py-code-ring",
				{ "py_code_events" },
				8 * 1024 * 1024,
				"a code object's names (STAT_PY_CODE_LOST)" },
	[CMAP_MEM_RING] = { "mem-ring",
			    { "mem_events" },
			    1024 * 1024,
			    "a memory event (STAT_MEM_EVENTS_LOST)" },
	[CMAP_MEM_STACKS] = { "mem-stacks",
			      { "mem_stacks" },
			      16384,
			      "a fault's native stack (STAT_MEM_STACK_FULL)" },
	[CMAP_MEM_PY_STACKS] = { "mem-py-stacks",
				 { "mem_py_stacks" },
				 4096,
				 "a fault's Python frames (STAT_MEM_STACK_FULL)" },
	[CMAP_MEM_CALLS] = { "mem-calls",
			     { "mem_calls" },
			     16384,
			     "a release (STAT_MEM_CALLS_FULL)" },
	/* 8 bytes each: 16 MiB. The BPF search takes RAMPA_UNWIND_ROW_STEPS
	 * steps, enough for 1 << (RAMPA_UNWIND_ROW_STEPS - 1) rows.
	 */
	[CMAP_UNWIND_ROWS] = { "unwind-rows",
			       { "unwind_rows" },
			       2 * 1024 * 1024,
			       "a table: the least used one is evicted (unwind stats)" },
	[CMAP_UNWIND_TABLES] = { "unwind-tables",
				 { "unwind_tables" },
				 4096,
				 "a table: the least used one is evicted (unwind stats)" },
	[CMAP_UNWIND_PROCS] = { "unwind-procs",
				{ "unwind_procs" },
				512,
				"a process is walked by frame pointers (unwind stats)" },
};

_Static_assert(2 * 1024 * 1024 <= 1u << (RAMPA_UNWIND_ROW_STEPS - 1),
	       "the unwinder's search reaches every row");
