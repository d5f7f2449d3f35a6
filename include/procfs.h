/* SPDX-License-Identifier: GPL-2.0 */
/* Readers of /proc for processes and threads (src/procfs.c). None of them
 * follows a name into structure: a stat file is parsed after its last ')'.
 * A process that is gone gives the "unknown" value each documents.
 */
#ifndef RAMPA_PROCFS_H
#define RAMPA_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* utime + stime of a whole process (/proc/PID/stat), in seconds; -1 if gone. */
double procfs__cpu_seconds(pid_t pid);

/* The state letter of a /proc .../stat file at path ('R', 'S', 'Z'...); 0
 * when unreadable.
 */
char procfs__stat_state(const char *path);

/* The state letter of thread tid of pid; 0 when unreadable. */
char procfs__thread_state(pid_t pid, pid_t tid);

/* A process's start time plus one (clock ticks after boot, stat field 22,
 * + 1 so that it is never 0): with its PID, what identifies a process. 0
 * when it is gone.
 */
uint64_t procfs__start_time(pid_t pid);

/* Whether pid lives (any of its threads does: the leader may have exited
 * while the others run) and, when start is not 0, is still the process
 * that procfs__start_time() gave start for.
 */
bool procfs__alive(pid_t pid, uint64_t start);

/* The process (Tgid) a thread id belongs to; 0 when there is none. */
pid_t procfs__tgid(pid_t pid);
/* The parent of a process (PPid); 0 when there is none or it is gone. */
pid_t procfs__ppid(pid_t pid);
/* Whether every thread of pid is a zombie: the process exited and waits for
 * its parent to reap it (a leader alone in Z, its other threads running, is
 * a live process whose main thread exited). False when pid is gone.
 */
bool procfs__zombie(pid_t pid);
/* Whether pid's executable (/proc/PID/exe) is named python* (python3.11,
 * python3.13t...); false when it cannot be read.
 */
bool procfs__exe_named_python(pid_t pid);
/* Whether pid surely runs no Python: its executable is not named python*
 * and, with maps, it maps no libpython* (an interpreter embedded in uwsgi,
 * a C++ service...). False when it may, or when it cannot be read (gone).
 */
bool procfs__no_python(pid_t pid, bool maps);

/* A thread's CPU time so far (/proc/PID/task/TID/schedstat), in ns; -1
 * when unreadable.
 */
int64_t procfs__thread_run_ns(pid_t pid, pid_t tid);

/* CPU time of pid's live threads now, in ns (exited, zombie and exiting
 * threads are left out: BPF counts those at exit); -1 when the process is
 * gone.
 */
int64_t procfs__process_run_ns(pid_t pid);

/* The process name (/proc/PID/comm) into buf of len bytes, NUL-terminated
 * and unfiltered, and true; "pid N" and false when it cannot be read.
 */
bool procfs__comm(pid_t pid, char *buf, size_t len);

/* The descendants of roots[0..nroots) alive now, from every process's
 * parent in /proc: a malloc'd array the caller frees in *out (NULL when
 * empty), its length returned.
 */
size_t procfs__descendants(const pid_t *roots, int nroots, pid_t **out);

#endif
