/* SPDX-License-Identifier: GPL-2.0 */
/* Structures shared by bpf/capture.bpf.c and the loader: fixed-width types only. */
#ifndef RAMPA_CAPTURE_H
#define RAMPA_CAPTURE_H

/* Deepest native stack the kernel walks (its default perf_event_max_stack). */
#define RAMPA_MAX_STACK_DEPTH 127

/* Aggregation buffers: the loader flips between two sets so it can drain one
 * set while the BPF side fills the other.
 */
#define RAMPA_NR_BUFS 2

/* Limits of the kernel maps; hitting one is counted in the stats map. */
#define RAMPA_STACK_MAP_ENTRIES 16384
#define RAMPA_COUNT_MAP_ENTRIES 16384
#define RAMPA_TARGET_MAP_ENTRIES 4096
#define RAMPA_SEEN_MAP_ENTRIES 8192
#define RAMPA_EVENT_RING_BYTES (256 * 1024)

struct sample_key {
	__u32 pid; /* tgid */
	__u32 tid;
	__s32 user_stack_id; /* < 0: no user stack (kernel thread or read failed) */
	__s32 kern_stack_id; /* < 0: sample hit user mode */
};

/* Indexes into the per-CPU stats array: every loss is counted here. */
enum capture_stat {
	STAT_SAMPLES,		 /* samples of target threads */
	STAT_USTACK_COLLISION,	 /* user stack hash collided in the stack map */
	STAT_KSTACK_COLLISION,	 /* kernel stack hash collided */
	STAT_USTACK_FAILED,	 /* user stack could not be read (other errors) */
	STAT_KSTACK_FAILED,	 /* kernel stack could not be read */
	STAT_STACK_MAP_FULL,	 /* stack map out of entries */
	STAT_COUNT_MAP_FULL,	 /* count map out of entries: sample dropped */
	STAT_EVENTS_LOST,	 /* ring buffer full: process event dropped */
	STAT_TARGETS_FULL,	 /* target map full: a forked child was not followed */
	STAT__MAX,
};

enum capture_event_type {
	EVENT_NEW_PROCESS = 1, /* first sample of a process: read its maps now */
	EVENT_EXEC = 2,	       /* a target called exec: its maps changed */
	EVENT_FORK = 3,	       /* a target forked a child that is now followed */
};

struct capture_event {
	__u32 type;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	char comm[16];
};

#endif
