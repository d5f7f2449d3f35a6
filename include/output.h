/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_OUTPUT_H
#define RAMPA_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "profile.h"

/* The output formats of record, gil-wait and report. */
enum output_format {
	OUTPUT_INVALID = -1,
	OUTPUT_FOLDED,	   /* collapsed stacks, .folded */
	OUTPUT_SVG,	   /* interactive flame graph, .svg */
	OUTPUT_SPEEDSCOPE, /* speedscope JSON, .speedscope.json */
	OUTPUT_PPROF,	   /* gzipped profile.proto, .pb.gz */
	OUTPUT_PSTATS,	   /* Python's pstats (marshal), .pstats */
	OUTPUT_GECKO,	   /* the Firefox Profiler's gecko JSON, .gecko.json */
	OUTPUT_FORMAT_MAX,
};

/* The format named by format ("folded", "collapsed", "svg", "flamegraph",
 * "speedscope", "pprof", "pstats", "gecko", "firefox") or, when format is
 * NULL, by path's extension (.svg, .json, .pb.gz/.pprof/.pb, .pstats/.prof,
 * .gecko.json; anything else or no path: folded). OUTPUT_INVALID for an unknown format name.
 */
enum output_format output__format_for(const char *format, const char *path);
/* Without format, one warning when path ends in an extension no format
 * has (x.svgz, x.html): it is written as folded, which the name hides.
 */
void output__warn_unknown_ext(const char *format, const char *path);
const char *output__format_name(enum output_format fmt);
/* The extension of a default output file name, e.g. ".pb.gz". */
const char *output__format_ext(enum output_format fmt);
/* "folded, svg, speedscope, pprof, pstats, gecko", from the format table,
 * for help texts and errors; static storage.
 */
const char *output__format_list(void);
/* Whether fmt can hold counts in unit (pstats holds times: not bytes). */
bool output__takes_unit(enum output_format fmt, const char *unit);
/* The default extensions of the formats that take unit, ".folded, .svg ...
 * or .gecko.json"; static storage, overwritten by the next call.
 */
const char *output__exts_for_unit(const char *unit);
/* A command's --help line for its format option opt ("    --format FORMAT"),
 * from the format table: the formats that can hold counts in unit (NULL:
 * any), their extensions, and those refused. Wrapped at 80 columns.
 */
void output__usage_format(FILE *f, const char *opt, const char *unit);

/* Write p in fmt; the profile's meta (mode, unit, target, duration, hz)
 * titles every format. 0, or -1 on a write error (errno set).
 */
int output__write(FILE *f, const struct profile *p, enum output_format fmt);

/* output__open flags. OUTPUT_IN_PLACE: an existing symlink, device or FIFO
 * at the path is written through (--output-in-place); otherwise it is
 * refused.
 */
#define OUTPUT_IN_PLACE 1u

/* Write to path atomically: a new file created exclusively in its directory
 * and linked or renamed into place once complete. "-" writes to stdout.
 * Under sudo the new file is given to SUDO_UID through its descriptor.
 * Errors are reported; 0 or -1.
 */
int output__write_file(const char *path, const struct profile *p, enum output_format fmt,
		       unsigned int flags);

/* The temporary-file-and-rename dance for writers of other shapes (diff):
 * output__open gives a stream (stdout for "-"), output__commit renames it
 * into place (ok) or removes it (!ok). 0 or -1, errors reported.
 */
struct output_file {
	FILE *f;
	char *path;	/* as given */
	char *base;	/* its last component, relative to dirfd */
	char *tmp_name; /* a named temporary file, when not an unnamed O_TMPFILE one */
	int dirfd;	/* the directory the file is created and renamed in */
	bool in_place;	/* OUTPUT_IN_PLACE: writing through an existing node */
};
int output__open(struct output_file *of, const char *path, unsigned int flags);
int output__commit(struct output_file *of, int ok);

#endif
