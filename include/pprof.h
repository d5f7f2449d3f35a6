/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PPROF_H
#define RAMPA_PPROF_H

#include <stdio.h>

#include "profile.h"

/* Gzipped profile.proto (github.com/google/pprof/proto/profile.proto),
 * encoded by hand. Sample type by mode: samples/count (cpu), wall,
 * offcpu, gil-wait /microseconds. Labels per sample: "process" (the root
 * frame), "pid" when the root reads "name-PID" or "pid N", and "thread" +
 * "tid" from a "threadname-TID" frame after the root (then dropped from the
 * locations). The meta's description is a comment; duration and period set.
 */
int pprof__write(FILE *f, const struct profile *p);

#endif
