/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel side of rampa-bpf dump (bpf/dump.bpf.c behind src/taskiter.c):
 * every thread of one process read by a BPF task iterator, without stopping
 * it.
 */
#ifndef RAMPA_TASKITER_H
#define RAMPA_TASKITER_H

#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>
#include "dump.h"

struct taskiter;

/* Load the iterator program. 0, or after one error line -EPERM (no
 * privileges), -EOPNOTSUPP (no BTF, or the kernel refuses task iterators),
 * another negative errno.
 */
int taskiter__open(struct taskiter **out);
void taskiter__close(struct taskiter *d);

/* One pass over the threads of pid: a malloc'd array of *n entries (the
 * caller frees it), NULL with *n 0 when the process has none (it is gone).
 * A negative errno in *err when the pass itself failed (logged with -v).
 */
struct dump_task *taskiter__read(struct taskiter *d, pid_t pid, size_t *n, int *err);

/* Sample threads tids[0..n) of pid, on a CPU at the last pass, at their next
 * tick (a per-thread cpu-clock event, DUMP_SAMPLE_PERIOD_NS), waiting at most
 * timeout_ms; out[i].done tells which were taken (a thread that slept or
 * exited meanwhile is not). At most DUMP_SAMPLE_THREADS threads. Returns how
 * many were taken.
 */
unsigned int taskiter__sample(struct taskiter *d, const pid_t *tids, unsigned int n,
			      struct dump_sample *out, unsigned int timeout_ms);

#endif
