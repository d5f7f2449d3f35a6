/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_GILWAIT_H
#define RAMPA_GILWAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/types.h>
#include "capture.h"

/* The per-thread side of `rampa-bpf gil-wait`: who waited how long for the
 * GIL, how often, and behind whom.
 */
struct gilwait;

struct gilwait *gilwait__new(void);
void gilwait__free(struct gilwait *g);

/* A thread of pid exists (seen in a sample or an event). */
void gilwait__thread(struct gilwait *g, pid_t pid, pid_t tid);
/* ns of waiting by tid behind holder_tid (0: unknown), whose Python code was
 * at where (NULL: unknown). GILWAIT_HANDOFF as where, with holder 0: no
 * thread held the GIL, it was passing from one thread to the next.
 */
#define GILWAIT_HANDOFF "\x01handoff"
void gilwait__behind(struct gilwait *g, pid_t pid, pid_t tid, pid_t holder_tid, const char *where,
		     uint64_t ns);
/* The BPF per-thread counters, at the end. */
void gilwait__stats(struct gilwait *g, __u32 tid, const struct gil_thread *t);
/* Name the threads seen so far: name(pid, tid, ctx) gives a thread's latest
 * name, NULL to keep the one it has (none: shown as "?").
 */
void gilwait__names(struct gilwait *g, const char *(*name)(pid_t pid, pid_t tid, void *ctx),
		    void *ctx);

/* The table (or JSON) for a run from start_ns to end_ns (CLOCK_MONOTONIC). */
void gilwait__print(struct gilwait *g, FILE *f, bool json, uint64_t start_ns, uint64_t end_ns,
		    const char *(*describe)(pid_t pid, void *ctx), void *ctx);

#endif
