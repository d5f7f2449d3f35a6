/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PYTHREADS_H
#define RAMPA_PYTHREADS_H

#include <stdint.h>
#include <sys/types.h>

/* Thread names as the user knows them: threading.Thread.name, read from the
 * target's memory (sys.modules["threading"]._active: ident -> Thread, then
 * the Thread's _name), and the OS name (/proc/PID/task/TID/comm).
 *
 * The rule: a thread is called by the name it was given last. Both names are
 * read at every refresh while the process lives; whichever changed since the
 * previous refresh becomes the thread's name, the Python name when both did
 * or when a Python name is seen for the first time. A thread without a
 * threading.Thread (or with only threading's _DummyThread placeholder) is
 * called by its OS name. Names of threads and processes that are gone stay
 * as last seen. Nothing is guessed: when neither name could ever be read, a
 * thread has no name (NULL).
 */
struct pythreads;
struct python;

/* Limits, each counted when hit (struct pythreads_stats). */
#define PYTHREADS_MAX_THREADS	   4096	 /* threads followed per process */
#define PYTHREADS_MAX_NAME_CHARS   128	 /* characters of a Python name kept */
#define PYTHREADS_MAX_DICT_ENTRIES 65536 /* entries read from one dict */

struct pythreads_stats {
	uint64_t refreshes;	    /* processes read */
	uint64_t python_reads;	    /* ... of which the threading module was read */
	uint64_t python_unreadable; /* ... and could not be (memory changing, layout) */
	uint64_t python_named;	    /* threads named by threading.Thread.name at least once */
	uint64_t threads_over;	    /* threads not followed: PYTHREADS_MAX_THREADS */
	uint64_t names_cut;	    /* Python names cut at PYTHREADS_MAX_NAME_CHARS */
	uint64_t invalid_chars;	    /* bytes or characters not text, replaced by U+FFFD */
};

/* py (may be NULL: OS names only) tells where each process's CPython is. */
struct pythreads *pythreads__new(struct python *py);
void pythreads__free(struct pythreads *pt);

/* Read the names of every process asked about so far again, while they
 * live; call it periodically (at each drain) and once at the end.
 */
void pythreads__refresh(struct pythreads *pt);
/* The latest name of thread tid of pid, NULL when none could be read. The
 * first question about a process reads its names at once. The string stays
 * valid until the next refresh.
 */
const char *pythreads__name(struct pythreads *pt, pid_t pid, pid_t tid);
/* Let go of what is known of pid (it exited): the names given for its
 * threads are freed. A later question about pid reads it anew.
 */
void pythreads__forget(struct pythreads *pt, pid_t pid);
/* True when that name is threading.Thread.name (false: the OS name). */
int pythreads__is_python(struct pythreads *pt, pid_t pid, pid_t tid);
/* Both names of thread tid of pid as last read: the OS name and
 * threading.Thread.name, each NULL when none could be read. Valid until the
 * next refresh.
 */
void pythreads__names(struct pythreads *pt, pid_t pid, pid_t tid, const char **os, const char **py);
const struct pythreads_stats *pythreads__stats(const struct pythreads *pt);

#endif
