/* SPDX-License-Identifier: GPL-2.0 */
/* Retained growth and churn of rampa-bpf mem (src/memtrack.c): sampled
 * pages by address, each standing for some bytes and owned by the stack
 * that faulted it in. A page given back (munmap, madvise, brk trimmed)
 * moves its bytes from its stack's retained growth to its churn; what is
 * still mapped at the end is retained growth (for a process that exited,
 * before its final fall: see memtrack__exited).
 */
#ifndef RAMPA_MEMTRACK_H
#define RAMPA_MEMTRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct memtrack;

/* Bytes by stack; counts of what happened to the sampled pages. */
struct memtrack_totals {
	uint64_t sampled;	   /* bytes the sampled faults stand for */
	uint64_t retained;	   /* ... still mapped */
	uint64_t churn;		   /* ... given back */
	uint64_t refaulted;	   /* bytes of a sampled page faulted again without a
				    * release seen (a copy-on-write after fork): the old
				    * sample moved to churn
				    */
	uint64_t unplaced;	   /* bytes at addresses beyond the table's keys: not kept */
	uint64_t releases;	   /* releases (munmap, madvise, brk, mremap) seen */
	uint64_t log_folded_early; /* log entries folded early: MEMTRACK_LOG_MAX hit */
};

struct memtrack *memtrack__new(void);
void memtrack__free(struct memtrack *mt);

/* The stack known by hash (of the kernel's key for it), or -1. */
int64_t memtrack__stack_find(const struct memtrack *mt, uint64_t hash);
/* A new stack of pid: frames (profile frame ids, root first; copied). Its
 * index. remember: found again by hash from now on (not when a frame could
 * not be named yet: a library loaded since the maps were read).
 */
uint32_t memtrack__stack_add(struct memtrack *mt, uint64_t hash, bool remember, pid_t pid,
			     const uint32_t *frames, uint32_t n);

/* pid faulted in the page at addr (page-aligned), standing for bytes, at stack. */
void memtrack__fault(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t bytes, uint32_t stack);
/* --precise: pid allocated the (sampled) block at addr, standing for bytes,
 * at stack; and freed it (a block not kept: nothing done). Blocks are kept
 * apart from pages; a block allocated again at an address whose free was not
 * seen counts the old one as freed (in refaulted).
 */
void memtrack__block_alloc(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t bytes,
			   uint32_t stack);
void memtrack__block_free(struct memtrack *mt, pid_t pid, uint64_t addr);
/* --precise: pid mapped [addr, addr + len) outside the allocator (sampled),
 * standing for bytes, at stack. Kept by range, so that a part given back
 * (munmap) or a mapping moved, grown or shrunk (mremap) follows, shares of
 * bytes by length. What was kept at those addresses is counted as freed (in
 * refaulted): its end was not seen.
 */
void memtrack__map_alloc(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len,
			 uint64_t bytes, uint32_t stack);
/* ... pid unmapped [addr, addr + len): the sampled mappings there, whole or
 * in part, become churn.
 */
void memtrack__map_release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len);
/* ... mremap: [addr, addr + len) now at [addr2, addr2 + len2): what was kept
 * there moves, what lay past len2 is churn, what was at the destination goes;
 * grown_stack >= 0: the growth was sampled, standing for grown_bytes.
 */
void memtrack__map_move(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, uint64_t addr2,
			uint64_t len2, uint64_t grown_bytes, int64_t grown_stack);
/* pid gave back [addr, addr + len): its sampled pages there become churn. */
void memtrack__release(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len);
/* mremap: [addr, addr + len) now at [addr2, addr2 + len2); pages past len2 go. */
void memtrack__move(struct memtrack *mt, pid_t pid, uint64_t addr, uint64_t len, uint64_t addr2,
		    uint64_t len2);
/* pid's image is gone (exec): all its pages and mappings were given back. */
void memtrack__forget_process(struct memtrack *mt, pid_t pid);

/* The time (s) of what comes next: faults and releases are logged with it
 * for MEMTRACK_LOG_SEC (at most MEMTRACK_LOG_MAX entries), so that the
 * figures of a process can be taken as they were at a time in that span.
 */
#define MEMTRACK_LOG_SEC 60.0
#define MEMTRACK_LOG_MAX (1u << 20)
void memtrack__set_time(struct memtrack *mt, double t);
/* pid exited: its stacks report their figures as at time t (s), before its
 * final fall: an interpreter frees everything as it shuts down, and that is
 * not the program giving memory back. A t older than the log's span gives
 * the figures at the span's start.
 */
void memtrack__exited(struct memtrack *mt, pid_t pid, double t);

/* Totals; retained and churn as memtrack__stacks reports them. */
void memtrack__totals(const struct memtrack *mt, struct memtrack_totals *t);
/* Every stack with bytes: cb(frames, n, retained, churn, ctx). */
void memtrack__stacks(const struct memtrack *mt,
		      void (*cb)(const uint32_t *frames, uint32_t n, uint64_t retained,
				 uint64_t churn, void *ctx),
		      void *ctx);

#endif
