/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_REPORT_H
#define RAMPA_REPORT_H

#include <stdbool.h>

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
	OPT_SLICE,
	OPT_FROM,
	OPT_TO,
};

#define REPORT_META_HELP                                                                       \
	"      --mode MODE          what the counts measure: cpu, wall, offcpu, gil-wait,\n"   \
	"                           gil, mem\n"                                                \
	"      --unit UNIT          unit of the counts: samples, microseconds, nanoseconds,\n" \
	"                           bytes\n"                                                   \
	"      --target TEXT        what was profiled, for titles\n"                           \
	"      --duration TIME      how long the profile ran (e.g. 30s), for titles\n"         \
	"      --hz N               sampling rate, for titles (and diff's test on time)\n"     \
	"      --lenient            skip malformed input lines (counted) instead of failing\n" \
	"      --from SEC           keep the time slices from SEC seconds after the\n"         \
	"                           profile's start (a profile from rampa-bpf record)\n"       \
	"      --to SEC             ... up to SEC seconds after it\n"

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

/* The options report and diff share: the meta options (--mode, --unit,
 * --target, --duration, --hz), -o, --format, --lenient, --output-in-place,
 * --short-paths, --no-lines and -q.
 */
struct profile_opts {
	struct input_meta meta;
	const char *output;	  /* -o, NULL: none */
	const char *format;	  /* --format, NULL: none */
	unsigned int read_flags;  /* FOLDED_LENIENT */
	unsigned int out_flags;	  /* OUTPUT_IN_PLACE */
	unsigned int label_flags; /* LABEL_SHORT_PATHS, LABEL_NO_LINES */
	int quiet;
	/* --from/--to: seconds from the profile's start; to < 0: the end. As
	 * given too: an agent's store reads them as wall-clock times.
	 */
	double from, to;
	const char *from_arg, *to_arg;
	bool window;
	const char *window_bad; /* a value that is not seconds, NULL: none */
};

/* Parse getopt's opt and arg into po when it is one of the shared options:
 * 1 if it was, 0 if not, -1 on a bad value (reported).
 */
int report__profile_opt(struct profile_opts *po, int opt, const char *arg);

/* --from/--to given: *p replaced by the slices covering [from, to) of its
 * timeline (profile__window), the window kept said on stderr unless quiet.
 * An exit code: EXIT_OK, or EXIT_USAGE when path's profile has no time
 * axis or the window holds none of it (reported).
 */
int report__apply_window(struct profile **p, const struct profile_opts *po, const char *path);

/* getopt_long returned '?' for cmd: one error line naming the option;
 * EXIT_USAGE.
 */
int report__bad_option(char **argv, const char *cmd);

#endif
