// SPDX-License-Identifier: GPL-2.0
/* Readers of /proc for processes and threads: state, start time, CPU time,
 * names and the process tree. Every reader parses a stat file after the
 * last ')' (a command name may hold any byte but NUL) and tolerates the
 * process being gone: it returns the documented "unknown" value then.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

/* utime + stime of a whole process in seconds, or -1. */
double procfs__cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* The state letter of a /proc .../stat file (0 if unreadable). The name
 * may hold anything, ')' and newlines included: the state follows the last
 * ')'.
 */
char procfs__stat_state(const char *path)
{
	char buf[1024], *p;

	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) || !p[1])
		return 0;
	return p[2];
}

static bool stat_running(const char *path)
{
	char state = procfs__stat_state(path);

	return state && state != 'Z' && state != 'X';
}

/* A process's start time (clock ticks after boot, /proc/PID/stat field 22):
 * with its PID, what identifies it; 0 when it is gone.
 */
uint64_t procfs__start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &start) != 1)
		return 0;
	return start + 1; /* never 0 for a live process */
}

/* A process lives while any of its threads does: its main thread may have
 * exited (a zombie leader) while the others run on. A new process that took
 * the PID is not it (start differs).
 */
bool procfs__alive(pid_t pid, uint64_t start)
{
	char path[320];
	struct dirent *de;
	bool alive = false;
	DIR *dir;

	if (start && procfs__start_time(pid) != start)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (stat_running(path))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	while (dir && !alive && (de = readdir(dir))) {
		if (atoi(de->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, de->d_name);
		alive = stat_running(path);
	}
	if (dir)
		closedir(dir);
	return alive;
}

/* A "Name: %d" field of /proc/PID/status; 0 when unreadable. */
static pid_t status_pid_field(pid_t pid, const char *fmt)
{
	char path[64], line[256];
	pid_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Accept a thread id for its process; 0 when there is no such process. */
pid_t procfs__tgid(pid_t pid)
{
	return status_pid_field(pid, "Tgid: %d");
}

pid_t procfs__ppid(pid_t pid)
{
	return status_pid_field(pid, "PPid: %d");
}

/* A thread's CPU time so far in ns (/proc/PID/task/TID/schedstat), or -1. */
int64_t procfs__thread_run_ns(pid_t pid, pid_t tid)
{
	char path[96], buf[128];
	long long ns;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%lld", &ns) != 1)
		return -1;
	return ns;
}

/* A thread's state letter from /proc/PID/task/TID/stat (0 if unreadable). */
char procfs__thread_state(pid_t pid, pid_t tid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	return procfs__stat_state(path);
}

bool procfs__comm(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_text_file(path, buf, len) > 0)
		return true;
	snprintf(buf, len, "pid %d", (int)pid);
	return false;
}

/* CPU time of pid's live threads now (sum of their schedstat run time, ns);
 * -1 when the process is gone. Exited threads not yet reaped (a zombie
 * leader, an orphan's) are left out: BPF kept their time at exit.
 */
/* Whether thread tid of pid is live and not exiting: its state is not Z
 * or X and PF_EXITING (0x4, stat field 9) is clear. An exiting thread's CPU
 * time is the exit hook's to count (BPF keeps it at exit): read here too,
 * it would count twice.
 */
static bool thread_running(pid_t pid, pid_t tid)
{
	char path[96], buf[1024], *p, state;
	unsigned int flags;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_text_file(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return false;
	return state != 'Z' && state != 'X' && !(flags & 0x4 /* PF_EXITING */);
}

int64_t procfs__process_run_ns(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int64_t sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		int64_t ns =
		    tid > 0 && thread_running(pid, tid) ? procfs__thread_run_ns(pid, tid) : -1;

		if (ns > 0)
			sum += ns;
	}
	closedir(dir);
	return sum;
}

/* The descendants of roots alive now, from every /proc/PID/stat's parent;
 * a malloc'd array in *out, its length returned.
 */
size_t procfs__descendants(const pid_t *roots, int nroots, pid_t **out)
{
	struct pp {
		pid_t pid, ppid;
		bool in;
	} *v = NULL;
	size_t n = 0, cap = 0, nout = 0, out_cap = 0;
	struct dirent *de;
	DIR *dir = opendir("/proc");
	bool grew = true;

	*out = NULL;
	while (dir && (de = readdir(dir))) {
		char path[64], buf[1024], *p;
		pid_t pid = atoi(de->d_name), ppid;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		/* The name may hold ')': the fields follow the last one. */
		if (pid <= 0 || read_text_file(path, buf, sizeof(buf)) <= 0 ||
		    !(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %d", &ppid) != 1)
			continue;
		grow_array((void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = (struct pp){ pid, ppid, false };
	}
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < nroots; j++)
			v[i].in |= v[i].pid == roots[j];
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < n && !v[i].in; j++)
				if (v[j].in && v[j].pid == v[i].ppid) {
					v[i].in = grew = true;
					grow_array((void **)out, &out_cap, nout + 1, sizeof(**out));
					(*out)[nout++] = v[i].pid;
				}
		}
	}
	free(v);
	return nout;
}

bool procfs__zombie(pid_t pid)
{
	char path[64];
	struct dirent *de;
	bool live = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!live && (de = readdir(dir))) {
		pid_t tid = atoi(de->d_name);
		char st = tid > 0 ? procfs__thread_state(pid, tid) : 'Z';

		live = st && st != 'Z' && st != 'X';
	}
	closedir(dir);
	return !live;
}

/* 1 when pid's executable is named python*, 0 when not, -1 unreadable. */
static int exe_python_name(pid_t pid)
{
	char path[64], exe[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	base = strrchr(exe, '/');
	return !strncmp(base ? base + 1 : exe, "python", 6);
}

bool procfs__exe_named_python(pid_t pid)
{
	return exe_python_name(pid) == 1;
}

bool procfs__no_python(pid_t pid, bool maps)
{
	char path[64], line[PATH_MAX + 128];
	bool found = false, read = false;
	FILE *f;

	/* Unreadable: it may run Python. */
	if (exe_python_name(pid) != 0)
		return false;
	if (!maps)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		read = true;
		found = strstr(line, "/libpython") != NULL;
	}
	fclose(f);
	return read && !found;
}
