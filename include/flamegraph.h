/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_FLAMEGRAPH_H
#define RAMPA_FLAMEGRAPH_H

#include <stdio.h>

#include "calltree.h"
#include "profile.h"
#include "stats.h"

/* Self-contained interactive SVG flame graphs: click to zoom, Reset Zoom,
 * Search (a regular expression; the matched share is shown), tooltips, and
 * frames coloured by kind (enum frame_kind). Frames narrower than min_width
 * pixels are left out, with their weight still in their parents.
 */
struct flamegraph_opts {
	const char *title;  /* NULL: from the mode */
	unsigned int width; /* pixels; 0: 1200 */
	double min_width;   /* pixels; 0: 0.1 */
	/* Differential graph (tree slot 0 = BASE, slot 1 = NEW): widths from NEW,
	 * colour from the change of each frame's share of its profile's total.
	 */
	int diff;
	double confidence;	      /* for the legend, e.g. 0.99 */
	const struct diff_test *test; /* what is compared, and how significance is told */
	const char *base_name, *new_name;
};

int flamegraph__write(FILE *f, const struct profile *p, const struct flamegraph_opts *o);
/* With the default options, as an output format's writer. */
int flamegraph__write_default(FILE *f, const struct profile *p);
/* t holds the stacks (slot 0, or slots 0 and 1 for a diff) with frame ids of
 * names; meta titles it.
 */
int flamegraph__write_tree(FILE *f, struct calltree *t, const struct profile *names,
			   const struct profile_meta *meta, const struct flamegraph_opts *o);

/* "cpu, samples, target python3 (pid 12), 10.0 s at 99 Hz": what every
 * format's title or header says.
 */
void profile_meta__describe(const struct profile_meta *m, char *buf, size_t len);

#endif
