/* SPDX-License-Identifier: GPL-2.0 */
/* Which service a process belongs to (src/service.c), read from /proc: the
 * agent's windows are named and labelled by it.
 */
#ifndef RAMPA_SERVICE_H
#define RAMPA_SERVICE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct service_info {
	uint64_t start; /* procfs__start_time(): a reused PID differs */
	bool python;	/* its executable or a mapped library is CPython's */
	/* The service, by the first rule that gives one: OTEL_SERVICE_NAME or
	 * PYROSCOPE_APPLICATION_NAME in its environment, its systemd unit,
	 * "container-" and the container id's first 12 digits, the script or
	 * module a Python command line runs, the process name.
	 */
	char service[128];
	char container[80];	   /* 64 hex digits from its cgroup path, "" if none */
	char pyver[16];		   /* "3.11", "" if not known */
	char unit[128];		   /* systemd unit without ".service", "" if none */
	char cgroups[2048];	   /* /proc/PID/cgroup's paths, one per line */
	char cmdline[4096];	   /* its arguments joined by spaces */
	char exe[PATH_MAX];	   /* /proc/PID/exe, "" if unreadable */
	uint64_t exe_dev, exe_ino; /* its file: an exec since changes them */
};

/* The identity of pid's executable file (device, inode): 0, or -errno.
 * After an exec (a pyenv shim's bash becoming python) it differs while the
 * PID and start time stay.
 */
int service__exe_id(pid_t pid, uint64_t *dev, uint64_t *ino);

/* Fill si (the caller's) for pid: 0, or -ESRCH when pid is gone or its
 * name cannot be read. Reads /proc/PID/{stat,cmdline,cgroup,environ,exe,maps}.
 */
int service__describe(pid_t pid, struct service_info *si);

#endif
