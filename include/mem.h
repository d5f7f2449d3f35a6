/* SPDX-License-Identifier: GPL-2.0 */
/* Structures shared by bpf/mem.bpf.h (the memory programs, rampa-bpf mem)
 * and the loader: fixed-width types only.
 */
#ifndef RAMPA_MEM_H
#define RAMPA_MEM_H

/* The memory programs' map sizes: capture_maps[] (src/capture_maps.c). */

/* One anonymous write fault in this many is sampled (default); each sample
 * stands for that many pages.
 */
#define RAMPA_MEM_FAULT_SAMPLE 64
#define RAMPA_MEM_PAGE_BYTES   4096

/* mem --precise: live blocks tracked at once (the BPF block map, allocated
 * as it fills; --max-blocks), and the mean bytes between sampled
 * allocations (--sample-bytes).
 */
#define RAMPA_MEM_MAX_BLOCKS	     (1u << 20)
#define RAMPA_MEM_SAMPLE_BYTES	     (256 * 1024)
#define ALLOC__LIBC		     ALLOC_PY_MALLOC /* the first function not glibc's */
#define RAMPA_MEM_ALLOC_CALL_ENTRIES 16384	     /* threads inside an allocator call at once */

/* The allocator functions probed by mem --precise: glibc's, then CPython's
 * (in the interpreter or libpython; each takes the program of its glibc
 * twin: PyObject_Malloc is probed as malloc is).
 */
enum mem_alloc_fn {
	ALLOC_MALLOC,
	ALLOC_CALLOC,
	ALLOC_REALLOC,
	ALLOC_FREE,
	ALLOC_POSIX_MEMALIGN,
	ALLOC_ALIGNED_ALLOC,
	ALLOC_MEMALIGN,
	ALLOC_VALLOC,
	ALLOC_PY_MALLOC,
	ALLOC_PY_CALLOC,
	ALLOC_PY_REALLOC,
	ALLOC_PY_FREE,
	ALLOC__MAX,
};
/* Not a probe: a block mapped outside the allocator (--precise follows
 * pymalloc's arenas this way), given back by munmap.
 */
#define ALLOC_MUNMAP ALLOC__MAX

enum mem_event_type {
	MEM_FAULT = 1,	     /* a sampled page fault: addr, len = bytes it stands for, key */
	MEM_RELEASE = 2,     /* [addr, addr + len) given back: munmap, madvise, brk shrink */
	MEM_MOVE = 3,	     /* mremap: [addr, addr + len) now at [addr2, addr2 + len2) */
	MEM_BLOCK_ALLOC = 4, /* --precise: a sampled allocation of len bytes at addr, key */
	MEM_BLOCK_FREE = 5,  /* --precise: the sampled block at addr (of len bytes) freed */
	MEM_EXEC = 6,	     /* pid execs: its old image's memory is gone */
};

/* mem_event.flags */
#define MEM_EV_MAPPED 1 /* MEM_BLOCK_ALLOC: a mapping made outside the allocator */
#define MEM_EV_GROWN  2 /* MEM_MOVE (--precise): its growth (len2 - len) was sampled, key */

struct mem_event {
	__u32 type; /* enum mem_event_type */
	__u32 pid;
	__u32 tid;
	__u32 nr; /* syscall number, for MEM_RELEASE and MEM_MOVE */
	__u32 flags;
	__u32 pad;
	__u64 addr, len, addr2, len2;
	__u64 ts;	       /* bpf_ktime_get_ns() */
	struct sample_key key; /* MEM_FAULT: the stack, kind KIND_MEM */
};

/* A memory syscall entered, until it returns. */
struct mem_call {
	__u64 nr;
	__u64 args[4];
	__u64 old_brk; /* brk: mm->brk at entry */
	__u64 ts;      /* at entry: a release begins there (RSS read meanwhile falls) */
};

/* A process's mappings that its last sampled faults fell in (whether each is
 * anonymous), so the next fault there needs no lookup (bpf_find_vma: ~10 us
 * a call measured in a faulting thread). Forgotten at every call that can
 * put another mapping there (mmap, munmap, mremap, brk).
 */
#define RAMPA_MEM_VMAS 4
struct mem_vmas {
	__u64 start[RAMPA_MEM_VMAS], end[RAMPA_MEM_VMAS];
	__u32 anon; /* bit i: mapping i is anonymous */
	__u32 next; /* the slot replaced next */
};

/* A tracked block (--precise), by (tgid, address). */
struct mem_block_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct mem_block {
	__u64 size;
	__u16 sampled; /* a MEM_BLOCK_ALLOC went out: its free goes out too */
	__u16 mapped;  /* an anonymous mapping outside the allocator: munmap frees it */
	__u32 pad;
};

/* An allocator call entered, until it returns (nested calls inside it,
 * realloc calling malloc, are its own).
 */
struct mem_alloc_call {
	__u32 fn; /* enum mem_alloc_fn */
	__u32 depth;
	__u64 size;
	__u64 ptr; /* realloc: the old block; posix_memalign: where the result goes */
	__u64 sp;  /* the stack pointer at entry: a nested call has a lower one */
};

#endif
