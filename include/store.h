/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's local store (src/store.c): one collapsed-stack file (with our
 * "# rampa-bpf:" header) per window, service and process, laid out as
 *
 *	DIR/windows/SERVICE/MODE/FROM_UNTIL.folded
 *
 * FROM and UNTIL are UTC, "20261129T214200.123Z": a listing tells the
 * service, mode and time range of every window without opening it (a
 * name may add "_ANYTHING" before ".folded"; readers ignore it). Folded
 * files are what report and diff already read, merge by adding, and stay
 * readable with grep; pprof is made from them when pushed.
 */
#ifndef RAMPA_STORE_H
#define RAMPA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"

#define STORE_DEFAULT_DIR "/var/lib/rampa-bpf"

/* Whether path is a store: a directory holding windows/. */
bool store__is_store(const char *path);

/* A service name as a path component, one to one: bytes other than
 * [A-Za-z0-9_.-], a leading '.' and '%' itself become %XX (hex), so two
 * names never share a directory and store__name_of() gives the name back.
 * A name whose encoding passes STORE_NAME_KEEP bytes (or len - 1) keeps
 * what fits, then "~" and a 64-bit hash of the whole name (FNV-1a): still
 * its own, not reversible. "" is "%00". len: at least STORE_NAME_MAX.
 */
#define STORE_NAME_KEEP 200
#define STORE_NAME_MAX	256
void store__safe_name(const char *name, char *buf, size_t len);
/* A safe name back to the service's (%XX decoded; a hashed one as it is). */
void store__name_of(const char *safe, char *buf, size_t len);

/* Write p (a window from..until, wall-clock seconds since the epoch) of
 * service (already safe) into dir's windows, atomically. The bytes written
 * in *bytes. 0, or -1 with one error line.
 */
int store__write_window(const char *dir, const char *service, const char *mode, double from,
			double until, const struct profile *p, uint64_t *bytes);

/* Remove windows that ended before now - max_age seconds (0: no limit),
 * then the oldest until the windows take at most max_bytes (0: no limit).
 * How many were removed, and their bytes, added to *removed and *removed_bytes;
 * the bytes kept in *kept_bytes.
 */
void store__prune(const char *dir, double now, double max_age, uint64_t max_bytes,
		  uint64_t *removed, uint64_t *removed_bytes, uint64_t *kept_bytes);

/* A time on the command line into seconds since the epoch: "now", relative
 * "-10m" / "-2h" / "-30s" / "-1d" (before now), "@EPOCH", or ISO 8601
 * "2026-11-29T21:42:00Z" (a time without zone is UTC too; seconds and the
 * time itself optional). 0, or -1 when it is none of these.
 */
int store__parse_time(const char *s, double now, double *out);

/* Merge into p the windows of service (NULL: every service) and mode (NULL:
 * the only mode stored) that overlap [from, to]: whole windows, so the
 * profile may reach a window's length past either end. The number merged
 * in *nwindows, the range they cover in *first and *last. 0, or after one
 * error line -EINVAL (no such service, or several modes and none given: the
 * ones there are named), -EIO (a window unreadable as folded stacks) or
 * another negative errno (a window cannot be opened).
 */
int store__read(const char *dir, const char *service, const char *mode, double from, double to,
		struct profile *p, size_t *nwindows, double *first, double *last);

/* report DIR: the windows of service (NULL: all) and mode (NULL: the only
 * one) between the times from and to (store__parse_time; NULL: the first
 * and the last) merged into p, with a line on stderr saying what was merged
 * unless quiet. 0, or after one error line -EINVAL (a time that cannot be
 * read, --to before --from, or as store__read), -ENOENT (no window there)
 * or another negative errno (as store__read).
 */
int store__report_input(const char *dir, const char *service, const char *mode, const char *from,
			const char *to, struct profile *p, bool quiet);

#endif
