/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_REPORT_H
#define RAMPA_REPORT_H

#include "profile.h"

/* getopt values of the long options report and diff share. */
enum {
	OPT_LENIENT = 256,
	OPT_MODE,
	OPT_UNIT,
	OPT_TARGET,
	OPT_DURATION,
	OPT_HZ,
	OPT_SORT,
	OPT_FAIL_ABOVE,
	OPT_CONFIDENCE,
	OPT_TITLE,
	OPT_IN_PLACE,
	OPT_SHORT_PATHS,
	OPT_NO_LINES,
};

#define REPORT_META_HELP                                                                     \
	"      --mode MODE          what the counts measure: cpu, wall, offcpu, gil-wait,\n" \
	"                           gil\n"                                                   \
	"      --unit UNIT          unit of the counts: samples, microseconds\n"             \
	"      --target TEXT        what was profiled, for titles\n"                         \
	"      --duration TIME      how long the profile ran (e.g. 30s), for titles\n"       \
	"      --hz N               sampling rate, for titles (and diff's test on time)\n"   \
	"      --lenient            skip malformed input lines (counted) instead of failing\n"

/* Options that describe an input profile, shared by report and diff. */
struct input_meta {
	const char *mode, *unit, *target;
	double duration_sec;
	unsigned int hz;
};

/* Read collapsed stacks from path ("-": stdin) into p, then apply the
 * command line's meta over what the file's "# key: value" lines said.
 * An exit code: EXIT_OK, or EXIT_INPUT with the error reported.
 */
int report__read_input(const char *path, struct profile *p, unsigned int folded_flags,
		       const struct input_meta *im);

/* Parse one of the meta options (--mode, --unit, ...) into im: 1 if opt was
 * one, 0 if not, -1 on a bad value (reported).
 */
int report__meta_opt(struct input_meta *im, int opt, const char *arg);

#endif
