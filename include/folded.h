/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_FOLDED_H
#define RAMPA_FOLDED_H

#include <stdio.h>

#include "profile.h"

/* Collapsed stacks: "root;...;leaf WEIGHT" per line, sorted by stack, the
 * format FlameGraph, speedscope and inferno read. Frame names have ';' and
 * newlines replaced so a line always splits back into the same frames.
 */
int folded__write(FILE *f, const struct profile *p);

#endif
