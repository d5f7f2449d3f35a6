/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_FOLDED_H
#define RAMPA_FOLDED_H

#include <stdio.h>

#include "profile.h"

/* Collapsed stacks: "root;...;leaf WEIGHT" per line, sorted by stack, the
 * format FlameGraph, speedscope and inferno read. Whatever the names hold,
 * folded__read() reads the file back: ';' in a name is written ':', line
 * ends as spaces, trailing blanks are dropped, an empty name is "[unnamed]",
 * a '#' that would start the line is U+FF03, ill-formed UTF-8 is U+FFFD, and
 * names, stacks and lines over the reader's limits are cut (with a warning).
 */
int folded__write(FILE *f, const struct profile *p);

/* One comment line saying what the profile is, for the top of a folded file:
 *   # rampa-bpf: target "T", mode cpu, unit samples, duration 10.000 s, rate 99 Hz
 * It ends in a word, so FlameGraph and speedscope skip it as a malformed
 * line instead of counting it as a stack, and folded__read() parses it back.
 */
int folded__write_header(FILE *f, const struct profile *p);

/* Limits of the reader, each in one place; a line over one is malformed. */
#define FOLDED_MAX_LINE	 (1 << 20)    /* bytes per line */
#define FOLDED_MAX_FRAME 4096	      /* bytes per frame name */
#define FOLDED_MAX_DEPTH 4096	      /* frames per stack */
#define FOLDED_MAX_COUNT (1ULL << 53) /* per line, and the file's total */

enum folded_read_flags {
	FOLDED_LENIENT = 1 << 0, /* skip and count malformed lines instead of failing */
	FOLDED_QUIET = 1 << 1,	 /* no messages on stderr */
};

struct folded_read_stats {
	size_t lines;	  /* lines read, blank and comment lines included */
	size_t stacks;	  /* lines added to the profile */
	size_t skipped;	  /* malformed lines skipped (FOLDED_LENIENT) */
	size_t first_bad; /* line number of the first malformed line, 0 if none */
	char first_error[128];
};

/* Stream collapsed stacks from f into p: "frame;frame;...;frame COUNT" per
 * line (FlameGraph's stackcollapse, py-spy raw, austin, ours), root first.
 * Memory grows with the distinct stacks and frames, never with the number of
 * lines. Blank lines are ignored. Lines "# key: value" set p's meta for the
 * keys mode, unit, target, duration (seconds) and hz; other comments are
 * ignored. A malformed line (no count, a count that is not a whole number
 * below 2^53, an empty stack or frame, a frame over FOLDED_MAX_FRAME bytes,
 * a line over FOLDED_MAX_LINE, invalid UTF-8, a NUL byte) is an error naming
 * name:LINE, or with FOLDED_LENIENT is skipped and counted in *st.
 * Returns 0, or -1 on a malformed line (strict) or a read error.
 */
int folded__read(FILE *f, const char *name, struct profile *p, unsigned int flags,
		 struct folded_read_stats *st);

/* The same with every count (and timeline slice) multiplied by scale > 0,
 * rounded to the nearest (slices down, so they never exceed their stack's):
 * windows sampled at different rates merged as time (scale: 1e6 / rate).
 */
int folded__read_scaled(FILE *f, const char *name, struct profile *p, unsigned int flags,
			struct folded_read_stats *st, double scale);

/* The same on a buffer, for the fuzzer and tests. */
int folded__read_mem(const char *buf, size_t len, const char *name, struct profile *p,
		     unsigned int flags, struct folded_read_stats *st);

#endif
