/* SPDX-License-Identifier: GPL-2.0 */
/* Structures shared by bpf/capture.bpf.c and the loader: fixed-width types only. */
#ifndef RAMPA_CAPTURE_H
#define RAMPA_CAPTURE_H

/* Deepest native stack the kernel walks (its default perf_event_max_stack). */
#define RAMPA_MAX_STACK_DEPTH 127

/* The sizes of the kernel maps are set at load time from one table of
 * defaults, capture_maps[] (src/capture_maps.c); hitting one is counted.
 */
/* A clock tick of /proc/PID/stat's start time (USER_HZ 100), in ns. */
#define RAMPA_TICK_NS 10000000ull

/* Python frames per stack; deeper stacks keep the frames nearest the leaf
 * and are marked truncated.
 */
#define RAMPA_PY_MAX_DEPTH 256
/* Threads of one interpreter searched for the sampled thread's state (a
 * bpf_loop, on the first sample of a thread only: py_tstates caches it).
 */
#define RAMPA_PY_MAX_THREADS 32768

struct sample_key {
	__u32 pid; /* tgid */
	__u32 tid;
	__s32 user_stack_id; /* < 0: no user stack (kernel thread or read failed) */
	__s32 kern_stack_id; /* < 0: sample hit user mode */
	__u64 py_stack;	     /* hash of the Python stack in py_stacks*, 0: none */
	__u32 py_status;     /* enum py_status */
	__u32 kind;	     /* enum sample_kind: what the count measures */
	__u64 user_ip;	     /* user leaf address when no user stack was walked */
	__u32 snap_id;	     /* off-CPU since before the run: stack taken by userspace */
	__u32 unwind_status; /* enum unwind_status of the walk that took user_stack */
	__u64 holder;	     /* KIND_GIL_WAIT: tstate that held the GIL, 0: unknown */
	__u64 holder_py;     /* ... and its Python stack (hash in offcpu_py_stacks) */
	/* Hash of the user stack the CFI unwinder took (in ustacks* or
	 * offcpu_ustacks), 0: none (then user_stack_id or user_ip).
	 */
	__u64 user_stack;
	/* 1 + the timeline slice the kernel counted it in (from begin_ns, by
	 * timeline_ns); 0: not stamped (no timeline, or a key userspace made).
	 */
	__u32 slice;
	__u32 pad;
};

/* CPU samples count ticks and take their stacks from the flipped maps.
 * Off-CPU intervals count nanoseconds and take their stacks from the
 * persistent off-CPU maps: an interval may span any number of drains.
 */
enum sample_kind {
	KIND_CPU = 0,
	KIND_OFFCPU_BLOCKED = 1,  /* slept: the thread gave up the CPU */
	KIND_OFFCPU_RUNNABLE = 2, /* preempted: ready, waiting for a CPU */
	KIND_GIL_WAIT = 3,	  /* waiting to take the GIL (futex on its cond/mutex) */
	KIND_MEM = 4,		  /* memory (bpf/mem.bpf.h): stacks in the mem maps */
};

/* A GIL wait is a futex wait on the GIL's cond or mutex, [gil + gil_cond,
 * gil + gil_switch_cond) of struct py_proc, as take_gil() does. drop_gil()'s
 * forced-switch wait (on switch_cond) is left out: counting it lowered and
 * scattered the measured waits. Waits less than GIL_EPISODE_GAP_NS apart are
 * one take_gil() call, and the gaps between them count as waiting.
 */
#define GIL_EPISODE_GAP_NS 200000ULL

struct gil_wait {
	__u64 ts;	 /* futex entered (0: not in a GIL futex) */
	__u64 last_exit; /* last GIL futex left */
	/* The thread signalled the GIL's cond (it dropped the GIL) at drop_ts,
	 * having run drop_cpu ns so far; 0: no drop pending.
	 */
	__u64 drop_ts, drop_cpu;
	/* Since its last GIL wait the thread dropped the GIL or made another
	 * syscall: its next GIL wait starts a new take_gil().
	 */
	__u32 boundary;
	/* This take_gil() began before the window opened: its wait is counted
	 * (WAITS) when it ends, its time from the window's start.
	 */
	__u32 before_window;
	struct sample_key key;
};

/* A dropped GIL taken back within this long, with no other syscall in
 * between, was a forced switch: the time not spent running is waiting.
 */
#define GIL_DROP_WINDOW_NS 100000000ULL

struct gil_thread {
	__u32 pid;
	__u32 pad;
	__u64 wait_ns;	/* time in GIL futex waits */
	__u64 waits;	/* take_gil() calls that had to wait */
	__u64 max_ns;	/* longest of them */
	__u64 cur_ns;	/* the current one so far */
	__u64 start_ts; /* thread created during the run (0: before) */
	__u64 exit_ts;	/* thread exited during the run (0: did not) */
};

/* A thread that went off-CPU: since when (0: back on CPU), and where. The
 * kernel does not report every switch (seen on 6.18: switches away from some
 * threads reach no sched_switch probe), so each entry also keeps the thread's
 * CPU time (task->se.sum_exec_runtime) at its last switch: time away that a
 * missing report hid is worked out as wall time minus CPU time.
 */
struct offcpu_start {
	__u64 ts;    /* bpf_ktime_get_ns(), CLOCK_MONOTONIC; 0: on a CPU */
	__u64 rt;    /* CPU time (ns) at the switch that set ts or in_ts */
	__u64 in_ts; /* when it came back on a CPU; 0: not followed until it does */
	struct sample_key key;
};

/* snap_id of an interval from the window's start for a thread off-CPU since
 * before the run that woke before userspace took its stack: no stack.
 */
#define RAMPA_SNAP_UNTAKEN 0xffffffffu
/* snap_id of time off-CPU whose switch-out the kernel did not report: no stack. */
#define RAMPA_SNAP_UNREPORTED 0xfffffffeu
/* Below this (ns), wall minus CPU time since a thread came back is taken for
 * clock skew between the two, not an unreported switch.
 */
#define RAMPA_UNREPORTED_MIN_NS 20000

/* Where a thread left the CPU: a thread that blocks again at the same
 * syscall site, reached by the same user stack, is in the same kernel path,
 * so the kernel walk is skipped. The user stack is always walked: the same
 * ip and sp are reached from different callers (two functions calling one
 * wrapper at the same depth), and only the walk tells them apart.
 */
struct offcpu_site {
	__u32 tid;
	__u32 kind;
	__u64 ip, sp, nr, arg0; /* user ip, user sp, syscall number, first argument */
	__s64 user_stack_id;	/* the walk that reached it (-1: none) */
};

struct offcpu_site_stacks {
	__s32 kern_stack_id;
	__s32 pad;
};

enum py_status {
	PY_NOT_PYTHON = 0,  /* no interpreter known in this process */
	PY_OK = 1,	    /* Python stack captured whole */
	PY_TRUNCATED = 2,   /* deeper than RAMPA_PY_MAX_DEPTH: root side cut */
	PY_NO_THREAD = 3,   /* thread has no Python thread state (yet) */
	PY_NO_FRAME = 4,    /* thread state but no Python frame running */
	PY_READ_FAILED = 5, /* target memory unreadable mid-walk */
	PY_MAP_FULL = 6,    /* Python stack map full: stack dropped */
};

/* Frame flags. ENTRY: first frame of a run the interpreter entered from C.
 * The others say why the frame has no code id (py_frame.code is then the code
 * object's address): its header was unreadable at the sample, or its names
 * could not be handed to userspace (code event ring buffer full).
 */
#define PY_FRAME_ENTRY		 1u
#define PY_FRAME_CODE_UNREADABLE 2u
#define PY_FRAME_CODE_LOST	 4u
#define PY_FRAME_UNNAMED	 (PY_FRAME_CODE_UNREADABLE | PY_FRAME_CODE_LOST)

struct py_frame {
	/* Code id: names the code object as it was at the sample (its names
	 * went to userspace in a struct py_code_event with this id). Ids are
	 * never reused, so a new code object at a freed one's address gets a
	 * new id. With PY_FRAME_UNNAMED: the code object's address.
	 */
	__u64 code;
	__s32 offset; /* bytecode offset in bytes (-2: not started) */
	__u32 flags;  /* PY_FRAME_* */
};

/* C-stack entry frames kept per Python stack (3.12+): beyond, the places of
 * the outer runs in the native stack are not known by address.
 */
#define RAMPA_PY_MAX_ENTRIES 32

struct py_stack {
	__u32 depth;
	__u32 truncated;
	struct py_frame frames[RAMPA_PY_MAX_DEPTH]; /* leaf first */
	/* 3.12+: the address of each run's entry frame (the interpreter frame
	 * _PyEval_EvalFrameDefault keeps on the C stack), leaf first: it
	 * lies in the stack frame of the eval-loop call that ran the run.
	 * nentries > RAMPA_PY_MAX_ENTRIES: more than were kept.
	 */
	__u32 nentries;
	__u32 pad;
	__u64 entries[RAMPA_PY_MAX_ENTRIES];
	/* ... and the number of frames of frames[] leafward of each: run k
	 * is frames [entry_depths[k - 1], entry_depths[k]) (empty when equal:
	 * an entry frame with no Python frame of its own).
	 */
	__u16 entry_depths[RAMPA_PY_MAX_ENTRIES];
};

/* How the BPF walker reads one interpreter; filled by userspace per process.
 * Offsets are bytes from the object named by the prefix.
 */
enum py_ip_mode {
	PY_IP_LASTI_BYTES = 0, /* 3.9: f_lasti counts bytes */
	PY_IP_LASTI_WORDS = 1, /* 3.10: f_lasti counts 2-byte code units */
	PY_IP_POINTER = 2,     /* 3.11+: pointer into co_code_adaptive */
};

#define PY_OFF_NONE 0xffff

struct py_proc {
	__u64 runtime;		/* address of _PyRuntime */
	__u32 version;		/* PY_VERSION_HEX >> 16, e.g. 0x030b */
	__u16 rt_interp_head;	/* _PyRuntime -> interpreters.head */
	__u16 interp_threads;	/* interp -> threads head */
	__u16 ts_next;		/* tstate -> next */
	__u16 ts_thread_id;	/* tstate -> thread_id (pthread_t == fsbase) */
	__u16 ts_frame;		/* tstate -> frame / cframe / current_frame */
	__u16 cframe_current;	/* cframe -> current_frame, or PY_OFF_NONE */
	__u16 fr_previous;	/* frame -> previous / f_back */
	__u16 fr_code;		/* frame -> f_code / f_executable */
	__u16 fr_ip;		/* frame -> prev_instr / instr_ptr / f_lasti */
	__u16 fr_owner;		/* frame -> owner, or PY_OFF_NONE */
	__u16 fr_is_entry;	/* frame -> is_entry (3.11), or PY_OFF_NONE */
	__u16 co_code_adaptive; /* code -> first code unit (3.11+) */
	__u8 ip_mode;		/* enum py_ip_mode */
	__u8 code_tag_mask;	/* low bits to clear in f_executable (3.14+: 3) */
	__u8 owner_skip_min;	/* skip frames with owner >= this (3.12+: 3), else 0xff */
	__u8 fr_read_size;	/* bytes of a frame to read: covers every fr_* field */
	/* The interpreter has no frame pointers: a native walk through it is
	 * garbage that floods the stack map. Keep the user leaf address only
	 * when the Python walk succeeds.
	 */
	__u8 native_leaf_only;
	/* Set by the loader once code_dealloc of this process is probed: code
	 * ids checked since can be reused without reading (py_code_val).
	 */
	__u8 code_free_hooked;
	__u8 pad2[2];
	/* Which probe of code_dealloc that was (a new one after each attach):
	 * what a thread remembered under another is not used (struct py_memo).
	 */
	__u32 code_free_epoch;
	__u64 gil; /* address of struct _gil_runtime_state, 0: unknown */
	/* Code objects: where their names are (bytes from the object), and how
	 * much of the head to read so that every co_* field below is covered.
	 */
	__u16 co_filename, co_name, co_qualname, co_linetable, co_firstlineno;
	__u16 co_read_size;
	/* str objects: offset of the characters of a compact ASCII string, and
	 * of other compact strings (or of the data pointer of a legacy one).
	 */
	__u16 uni_ascii_data, uni_compact_data;
	/* The GIL (struct _gil_runtime_state at gil): where its last holder
	 * (PyThreadState *) and locked flag (int) are, and its futex words:
	 * take_gil() waits on cond under mutex; drop_gil() waits on
	 * switch_cond, which follows both. Bytes from gil.
	 */
	__u16 gil_last_holder, gil_locked;
	__u16 gil_cond, gil_mutex, gil_switch_cond;
};

/* Largest co_read_size: every layout's co_* fields lie below it. */
#define PY_CODE_READ_MAX 0x100

/* The first time the kernel sees a code object in a process (or a different
 * one at an address it knew), it copies what names it into a code event:
 * userspace never depends on the object, or the process, still existing.
 * Strings keep PY_CODE_STR_BYTES of their characters' bytes: longer ones keep
 * the first and last halves (userspace marks the cut). Line tables keep
 * PY_CODE_LINETABLE_BYTES.
 */
#define PY_CODE_STR_BYTES	4096
#define PY_CODE_LINETABLE_BYTES 8192

struct py_code_str {
	__u64 addr;   /* the str object, 0: none */
	__s64 length; /* in characters, as the object says */
	__u32 state;  /* PyASCIIObject.state: kind, compact, ascii bits */
	__u32 nbytes; /* bytes copied to data: all, or head and tail halves */
	__u32 ok;     /* 1: read; 0: unreadable at the sample */
	__u32 pad;
	__u8 data[PY_CODE_STR_BYTES];
};

struct py_code_event {
	__u32 pid;
	__u32 version; /* struct py_proc.version: how to decode the line table */
	__u64 id;      /* what frames carry in py_frame.code */
	__u64 addr;    /* the code object */
	/* The identity read at the sample: the code object's pointers to its
	 * filename, name, qualname and line table; userspace may read the
	 * object again only while these still match.
	 */
	__u64 filename_ptr, name_ptr, qualname_ptr, linetable_ptr;
	__s32 firstlineno;
	__u32 linetable_ok;	/* 1: line table read (perhaps cut) */
	__u64 linetable_len;	/* its full length */
	__u32 linetable_copied; /* bytes in linetable */
	__u32 pad2;
	struct py_code_str qualname, filename;
	__u8 linetable[PY_CODE_LINETABLE_BYTES];
};

struct py_code_key {
	__u32 pid;
	__u32 pad;
	__u64 addr;
};

struct py_code_val {
	__u64 fingerprint; /* hash of the identity fields at first sight */
	__u64 id;
	/* Checked by reading it while the process's code_dealloc was probed:
	 * until the probe marks it dead, the object at addr is this one, and
	 * walks name it without reading it again.
	 */
	__u8 trusted;
	__u8 dead; /* code_dealloc ran on it: read and check again, never trusted */
	__u8 pad[6];
};

/* Largest fr_read_size: 3.9's f_lasti ends at 0x6c. */
#define PY_FRAME_READ_MAX 0x70
/* The scheduler hook reads 3.11+ frames this many bytes at a time (a page). */
#define PY_WIN 4096
/* Depths of a thread's last walk whose code ids are remembered. */
#define PY_MEMO_FRAMES 64

/* Indexes into the per-CPU stats array: every loss is counted here. */
enum capture_stat {
	STAT_SAMPLES,		    /* samples of target threads */
	STAT_USTACK_COLLISION,	    /* user stack hash collided in the stack map */
	STAT_KSTACK_COLLISION,	    /* kernel stack hash collided */
	STAT_USTACK_FAILED,	    /* user stack could not be read (other errors) */
	STAT_KSTACK_FAILED,	    /* kernel stack could not be read */
	STAT_STACK_MAP_FULL,	    /* stack map out of entries */
	STAT_COUNT_MAP_FULL,	    /* count map out of entries: sample dropped */
	STAT_EVENTS_LOST,	    /* ring buffer full: process event dropped */
	STAT_TARGETS_FULL,	    /* target map full: a forked child was not followed */
	STAT_PY_STACK_MAP_FULL,	    /* Python stack map full: Python frames dropped */
	STAT_PY_READ_FAILED,	    /* Python walk hit unreadable memory */
	STAT_OFFCPU_SWITCHES,	    /* target switch-outs seen */
	STAT_OFFCPU_MAP_FULL,	    /* off-CPU start map full: an interval dropped */
	STAT_OFFCPU_STACK_FULL,	    /* off-CPU stack maps full: stack dropped */
	STAT_GIL_NOT_HELD,	    /* --mode gil: sample of a thread not holding the GIL */
	STAT_GIL_MAP_FULL,	    /* gil-wait thread maps full: a thread not measured */
	STAT_PY_CODE_UNREADABLE,    /* code object header unreadable: frame unnamed */
	STAT_PY_CODE_LOST,	    /* code event ring buffer full: frame unnamed */
	STAT_PY_CODE_EVENTS,	    /* code events sent (first sights) */
	STAT_PY_THREADS_LIMIT,	    /* thread state beyond RAMPA_PY_MAX_THREADS: stack lost */
	STAT_EXIT_RUNTIME_FULL,	    /* exited threads' CPU time not kept: map full */
	STAT_OFFCPU_UNTAKEN,	    /* off-CPU since before the run, woke before seeded */
	STAT_OFFCPU_IN_UNREPORTED,  /* switch-in not reported: interval cut by CPU time */
	STAT_OFFCPU_OUT_UNREPORTED, /* switch-out not reported: time under a marker */
	STAT_MEM_FAULTS,	    /* anonymous write faults of targets (rampa-bpf mem) */
	STAT_MEM_EVENTS_LOST,	    /* memory event ring buffer full: event dropped */
	STAT_MEM_STACK_FULL,	    /* memory stack maps full: stack dropped */
	STAT_MEM_CALLS_FULL,	    /* memory syscall map full: a release not seen */
	STAT_MEM_ALLOCS,	    /* mem --precise: allocations tracked (blocks) */
	STAT_MEM_ALLOC_BYTES,	    /* ... their bytes */
	STAT_MEM_FREES,		    /* tracked blocks freed */
	STAT_MEM_FREE_BYTES,	    /* ... their bytes */
	STAT_MEM_FREES_UNKNOWN,	    /* frees of blocks not tracked (allocated before attach) */
	STAT_MEM_ALLOC_SAMPLED,	    /* allocations sampled with their stack */
	STAT_MEM_BLOCKS_FULL,	    /* block map full: an allocation not tracked */
	STAT_MEM_BLOCKS_FULL_BYTES, /* ... its bytes */
	STAT_MEM_ALLOC_CALLS_FULL,  /* allocator call map full: a call not followed */
	STAT_MEM_MAPS,		    /* --precise: anonymous mappings made outside the allocator */
	STAT_MEM_MAP_BYTES,	    /* ... their bytes */
	STAT_MEM_MAP_RESIZES,	    /* --precise: mremap of memory mapped outside the allocator */
	STAT_MEM_MAP_PARTS,	    /* ... munmap of part of a mapping, or of several at once */
	STAT_UNWIND_WALKS,	    /* user stacks walked by the CFI unwinder */
	STAT_UNWIND_NO_TABLE,	    /* ... cut: address in no table, frame pointers led nowhere */
	STAT_UNWIND_BAD_RULE,	    /* ... cut: CFI there has a rule the walker cannot follow */
	STAT_UNWIND_UNREADABLE,	    /* ... cut: the stack could not be read */
	STAT_UNWIND_DEPTH,	    /* ... cut: deeper than RAMPA_MAX_STACK_DEPTH */
	STAT_UNWIND_FP_FRAMES,	    /* frames walked by frame pointers for want of a table */
	STAT_UNWIND_STACK_FULL,	    /* unwound stack map full: user stack dropped */
	STAT_UNWIND_MISS_EVENTS,    /* "unknown mapping" events sent to userspace */
	STAT_UNWIND_REUSED,	    /* switch-outs that reused one of the thread's walks, checked */
	STAT_UNWIND_CHANGED,	    /* ... checked and found changed: walked again */
	STAT_UNWIND_NOT_KEPT,	  /* walks not remembered: too many or too spread reads, no room */
	STAT_INTERVALS_LOST,	  /* interval ring buffer full: a marker's interval lost */
	STAT_SAMPLE_TIMES_LOST,	  /* sample time ring buffer full: a sample's instant lost */
	STAT_SHORT_WAITS_LOST,	  /* short wait ring full: a short wait in no marker */
	STAT_SHORT_WAITS_LOST_NS, /* ... its nanoseconds */
	STAT_PY_CODE_FREED,	  /* code objects freed while known (code_dealloc probe) */
	STAT_PROC_NAMES_FULL,	  /* process name map full: a gone process is named "pid N" */
	STAT_PY_MEMO_IDS,	  /* code ids taken from the thread's last walk (scheduler hook) */
	STAT_PY_MEMO_SAME,	  /* switch-outs whose Python stack was the thread's last one */
	STAT__MAX,
};

enum capture_event_type {
	EVENT_NEW_PROCESS = 1, /* first sample of a process: read its maps now */
	EVENT_EXEC = 2,	       /* a target called exec: its maps changed */
	EVENT_FORK = 3,	       /* a target forked a child that is now followed */
	EVENT_EXIT = 4,	       /* a target's last thread exited: it left the targets */
	/* A user address in no mapping the unwinder knows (a library mapped
	 * since): read the process's maps and tables again.
	 */
	EVENT_UNWIND_MISS = 5,
};

/* An off-CPU interval or a GIL futex wait of interval_min_ns or more, sent
 * as it ends (only when asked: gecko output turns them into markers). The
 * key is that of the time counted for it; its stacks are in the persistent
 * off-CPU maps.
 */
#define RAMPA_INTERVAL_RING_BYTES (512 * 1024)
/* interval_event.flags */
#define INTERVAL_MARK	   1u /* as long as a marker needs (interval_min_ns) */
#define INTERVAL_UNCOUNTED 2u /* across a time slice's end: its weight is only here */

struct interval_event {
	__u64 start_ns, end_ns; /* CLOCK_MONOTONIC; start_ns is the window's start at the latest */
	__u32 flags;		/* INTERVAL_* */
	__u32 pad;
	struct sample_key key;
};

/* A wait shorter than interval_min_ns (only when asked, with markers): its
 * thread and times, no stack, so that userspace merges the short waits of a
 * thread into one marker per time slice. The counts have it already.
 * SHORT_WAIT_PIECE: time counted as part of a wait (between two futex waits
 * of one take_gil(), a forced switch's time runnable) that is not a wait of
 * its own.
 */
#define RAMPA_SHORT_WAIT_RING_BYTES (2 * 1024 * 1024)
#define SHORT_WAIT_PIECE	    1u

struct short_wait_event {
	__u64 start_ns, end_ns; /* CLOCK_MONOTONIC */
	__u32 pid, tid;
	__u32 kind;  /* enum sample_kind */
	__u32 flags; /* SHORT_WAIT_* */
};

/* An on-CPU sample's instant (only when asked: gecko output orders its
 * samples by them). gen is active_buf when it was counted: the drain of that
 * buffer matches it to its key.
 */
#define RAMPA_SAMPLE_TIME_RING_BYTES (1024 * 1024)
struct sample_time_event {
	__u64 ts; /* CLOCK_MONOTONIC */
	__u32 gen;
	__u32 pad;
	struct sample_key key;
};

struct capture_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	char comm[16];
};

/* CFI unwinding (bpf/unwind.bpf.h). Userspace compiles each ELF file's
 * .eh_frame into rows, sorted by address, in one shared array
 * (unwind_rows); a table is a run of rows, named by its id in unwind_tables.
 * Each process has its executable mappings, sorted, with the table and load
 * bias of each (unwind_procs).
 */
#define RAMPA_UNWIND_MAPS	 256 /* executable mappings of one process */
#define RAMPA_UNWIND_NO_TABLE	 0xffffffffu
#define RAMPA_UNWIND_MISS_GAP_NS 100000000ull /* one miss event a process per 100 ms */
/* Binary-search steps: enough for 1 << (steps - 1) rows in one table. */
#define RAMPA_UNWIND_ROW_STEPS 22
#define RAMPA_UNWIND_MAP_STEPS 9
/* A thread's last walks at a switch-out (two: where it blocks and where it
 * is preempted, say), kept to be reused when it leaves again with the same
 * registers and the same words in the stack slots the walk read: at most
 * this many words read (two a frame at most), all within this many bytes
 * of stack (read back in one copy to check them).
 */
#define RAMPA_UNWIND_MEMO_READS 128
#define RAMPA_UNWIND_MEMO_SPAN	16384

enum unwind_kind {
	UNWIND_GAP = 0,	    /* no CFI covers the address: try frame pointers */
	UNWIND_CFA_RSP = 1, /* CFA = rsp + cfa_off */
	UNWIND_CFA_RBP = 2, /* CFA = rbp + cfa_off */
	UNWIND_BAD = 3,	    /* a rule the walker cannot follow (an expression, ...) */
	UNWIND_END = 4,	    /* outermost frame: the return address is undefined */
	/* A PLT entry (the linkers' CFA expression): CFA = rsp + cfa_off, 8
	 * more once past its push, at (pc & 15) >= rbp_off. Calls between
	 * libraries pass through it: samples there were cut at the leaf.
	 */
	UNWIND_CFA_PLT = 5,
};
/* The caller's rbp is saved at CFA + rbp_off * 8 (else rbp is unchanged). */
#define UNWIND_RBP_SAVED 0x10
/* cfa_off is in 8-byte words: a frame larger than 32 KiB (a function with
 * a big local buffer; CPython's select.select has 48 KiB) up to 256 KiB.
 */
#define UNWIND_CFA_X8 0x20

/* From pc (link-time address, relative to the table's file) on, until the
 * next row's pc. The return address is always at CFA - 8 on x86-64 (rows
 * where the CFI says otherwise are UNWIND_BAD).
 */
struct unwind_row {
	__u32 pc;
	__s16 cfa_off;
	__s8 rbp_off; /* in 8-byte words */
	__u8 kind;    /* enum unwind_kind | UNWIND_RBP_SAVED | UNWIND_CFA_X8 */
};

struct unwind_table {
	__u32 first; /* index of its first row in unwind_rows */
	__u32 nrows;
};

struct unwind_map {
	__u64 start, end; /* runtime addresses [start, end) */
	__u64 bias;	  /* runtime address = link address + bias */
	__u32 table;	  /* id in unwind_tables, RAMPA_UNWIND_NO_TABLE: none */
	__u32 pad;
};

struct unwind_proc {
	__u32 nmaps;
	__u32 pad;
	__u64 miss_ns;				   /* last EVENT_UNWIND_MISS sent */
	struct unwind_map maps[RAMPA_UNWIND_MAPS]; /* sorted by start */
};

/* How a user stack walk by the CFI unwinder ended. */
enum unwind_status {
	UNWIND_NONE = 0,       /* not walked by the unwinder (frame pointers: kernel walk) */
	UNWIND_OK = 1,	       /* reached the outermost frame */
	UNWIND_NO_TABLE = 2,   /* cut: no table, frame pointers led nowhere */
	UNWIND_BAD_RULE = 3,   /* cut: a rule the walker cannot follow */
	UNWIND_UNREADABLE = 4, /* cut: stack memory unreadable */
	UNWIND_DEPTH = 5,      /* cut: deeper than RAMPA_MAX_STACK_DEPTH */
};

struct user_stack {
	__u32 n;
	__u32 status;			  /* enum unwind_status */
	__u64 ips[RAMPA_MAX_STACK_DEPTH]; /* leaf first */
	/* The stack pointer in each frame: frame i's own stack lies in
	 * [sps[i], sps[i + 1]).
	 */
	__u64 sps[RAMPA_MAX_STACK_DEPTH];
};

#endif
