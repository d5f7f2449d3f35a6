/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PSTATS_H
#define RAMPA_PSTATS_H

#include <stdio.h>

#include "profile.h"

/* Python's pstats file (what cProfile.Profile.dump_stats writes, read by
 * "python -m pstats", snakeviz, gprof2dot): a marshal'd dict
 * {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}.
 * Per function (a Python frame's lines merged, keyed by the lowest line
 * seen), tt is self time and ct total time in seconds, from the samples;
 * callers come from the stacks. Call counts are unknown to a sampler and
 * written as 0. Frames that are not Python are ("~", 0, name), as cProfile
 * writes builtins.
 */
int pstats__write(FILE *f, const struct profile *p);

#endif
