/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_UTIL_H
#define RAMPA_UTIL_H

#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes, documented in docs/rampa-bpf.1.rst. */
enum rampa_exit {
	EXIT_OK = 0,
	EXIT_ERROR = 1,	     /* runtime failure */
	EXIT_USAGE = 2,	     /* bad command line */
	EXIT_NOPERM = 3,     /* missing privileges or kernel support */
	EXIT_NOTARGET = 4,   /* target process not found */
	EXIT_OUTPUT = 5,     /* output cannot be written */
	EXIT_INPUT = 6,	     /* report, diff: an input file is unreadable or malformed */
	EXIT_REGRESSION = 7, /* diff --fail-above: a function's share grew beyond the limit */
	EXIT_MEM_PEAK = 8,   /* mem --max-peak: resident memory went above the limit */
	EXIT_MEM_GROWTH = 9, /* mem --max-growth: memory still grew faster than the limit */
	EXIT_NOEXEC = 127,   /* record -- CMD: CMD cannot be run */
};

extern const char *progname;
extern int verbose;

void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Hand every message to sink (level: "error: ", "warning: ", "" or "debug: ";
 * msg without newline) instead of stderr, while a full-screen view owns the
 * terminal; NULL: stderr again.
 */
void util__set_msg_sink(void (*sink)(const char *level, const char *msg));
/* Call before() ahead of every message written to stderr (progress.h erases
 * its status line); NULL: none.
 */
void util__set_msg_before(void (*before)(void));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grow *arr (of *cap elements of size elem) so that it holds at least need. */
void grow_array(void **arr, size_t *cap, size_t need, size_t elem);

/* Read a small text file (a /proc entry) into buf, NUL-terminated, without
 * its final newline. Newlines inside are kept: /proc/PID/comm and the name
 * in /proc/PID/stat may hold any byte but NUL, so parse stat after its last
 * ')'. Length read, or -1.
 */
ssize_t read_text_file(const char *path, char *buf, size_t len);
/* mkdir -p dir, new directories with mode: 0, or -1 with errno
 * (ENAMETOOLONG past PATH_MAX).
 */
int mkdir_p(const char *dir, mode_t mode);

/* Largest file read for symbols (an ELF file, a separate debug file). */
#define RAMPA_MAX_READ_FILE (2ull << 30)

/* Open a target's file for reading, as root, without letting the target steer
 * it: non-blocking (a FIFO cannot hang the run), and only a regular file of
 * at most max_size bytes (else -1 with errno EINVAL or EFBIG).
 * open_regular: path as is (a /proc magic link such as map_files, or a host
 * path). open_in_root: path resolved inside pid's root directory
 * (/proc/PID/root): absolute symlinks and ".." stay inside it (openat2
 * RESOLVE_IN_ROOT), /proc magic links are refused.
 */
int open_regular(const char *path, uint64_t max_size);
int open_in_root(pid_t pid, const char *path, uint64_t max_size);

/* Make a name read from a target (a process or thread name) safe on one line
 * of text: control characters (a newline, an escape) become '?', in place.
 * Returns how many were replaced.
 */
size_t text_safe(char *s);

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
double now_sec(void); /* CLOCK_MONOTONIC */
/* now_sec() when main() began: what the program's own CPU time is over. */
extern double rampa_started_sec;
uint64_t mono_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */

/* Parse a whole decimal number into *out within [min, max]; 0 on success. */
int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Parse a duration: "10", "10s", "500ms", "2m"; seconds out. */
int parse_duration(const char *s, double *out);

/* A time for people: "850 us", "12.3 ms", "4.20 s" (three significant digits,
 * the unit chosen to fit; a sign with plus set; "0" for zero). Returns buf.
 */
char *fmt_time(char *buf, size_t len, double sec, int plus);
/* Seconds per count of unit ("microseconds", "nanoseconds", or "samples" at
 * hz); 0 when the counts have no known time.
 */
double unit_seconds(const char *unit, unsigned int hz);
/* A weight for people: in a time unit, a time (fmt_time); in samples (or an
 * unknown unit), "N samples". Returns buf.
 */
/* Bytes for people: "512 B", "1.50 KiB", "123 MiB" (powers of 1024). Returns buf. */
char *fmt_bytes(char *buf, size_t len, uint64_t b);
char *fmt_amount(char *buf, size_t len, uint64_t w, const char *unit);

/* One option of a command's --help: opt in the first 27 columns (NULL: a
 * continuation line), text word-wrapped at 80 columns under column 27.
 */
void help_option(FILE *f, const char *opt, const char *text);

#endif
