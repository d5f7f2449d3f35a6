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

enum mem_event_type {
	MEM_FAULT = 1,	 /* a sampled page fault: addr, len = bytes it stands for, key */
	MEM_RELEASE = 2, /* [addr, addr + len) given back: munmap, madvise, brk shrink */
	MEM_MOVE = 3,	 /* mremap: [addr, addr + len) now at [addr2, addr2 + len2) */
};

struct mem_event {
	__u32 type; /* enum mem_event_type */
	__u32 pid;
	__u32 tid;
	__u32 nr; /* syscall number, for MEM_RELEASE and MEM_MOVE */
	__u64 addr, len, addr2, len2;
	__u64 ts;	       /* bpf_ktime_get_ns() */
	struct sample_key key; /* MEM_FAULT: the stack, kind KIND_MEM */
};

/* A memory syscall entered, until it returns. */
struct mem_call {
	__u64 nr;
	__u64 args[4];
	__u64 old_brk; /* brk: mm->brk at entry */
};

#endif
