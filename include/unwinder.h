/* SPDX-License-Identifier: GPL-2.0 */
/* Native user stacks of a live process from its threads' saved registers
 * (src/unwinder.c): elfutils' libdwfl unwinds with each module's .eh_frame
 * (CFI; a frame-pointer step where a module has none), reading the stack
 * with process_vm_readv. Nothing is stopped or attached: the caller gives
 * registers it trusts (a thread off CPU) and checks afterwards that the
 * thread did not run meanwhile.
 */
#ifndef RAMPA_UNWINDER_H
#define RAMPA_UNWINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/types.h>

struct unwinder;

/* Why a walk ended. */
enum unwind_end {
	UNWIND_COMPLETE = 0, /* reached the outermost frame */
	UNWIND_TRUNCATED,    /* max frames */
	UNWIND_FAILED, /* a step failed (no CFI, unreadable memory): what follows is unknown */
};

/* For pid (its modules read from /proc/PID/maps, files opened inside its
 * root); NULL after one debug line when libdwfl cannot be set up.
 */
struct unwinder *unwinder__new(pid_t pid);
void unwinder__free(struct unwinder *u);

/* Unwind thread tid from regs (DUMP_NREGS words, DWARF order: include/dump.h)
 * into pcs[0..max) leaf first, reading stack_len bytes at stack_base from
 * the copy stack when given (taken with the registers), the rest from the
 * process, with each frame's stack pointer in sps (0:
 * unknown); activation[i] is true for the leaf (and signal frames): its pc
 * is not a return address. The count in *n.
 */
enum unwind_end unwinder__walk(struct unwinder *u, pid_t tid, const __u64 *regs,
			       uint64_t stack_base, const void *stack, size_t stack_len,
			       uint64_t *pcs, uint64_t *sps, bool *activation, unsigned int max,
			       unsigned int *n);

#endif
