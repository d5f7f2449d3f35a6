// SPDX-License-Identifier: GPL-2.0
/* Which service a process belongs to, and its labels, from /proc
 * (service.h): the rule the agent names its windows by.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "service.h"
#include "util.h"

static void read_cmdline(pid_t pid, char *buf, size_t len, size_t *n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	*n = 0;
	buf[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	*n = fread(buf, 1, len - 1, f);
	buf[*n] = 0;
	fclose(f);
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

/* The script or module a Python command line runs: "app" of "python3 -u
 * /srv/app.py", "celery" of "python -m celery worker". NULL when none.
 */
static bool script_name(const char *cmd, size_t n, char *out, size_t len)
{
	const char *a = cmd, *end = cmd + n;

	if (!n || strncmp(base_name(a), "python", 6))
		return false;
	for (a += strlen(a) + 1; a < end; a += strlen(a) + 1) {
		if (!strcmp(a, "-m") || !strcmp(a, "-c")) {
			const char *next = a + strlen(a) + 1;

			if (a[1] == 'c')
				snprintf(out, len, "python-c");
			else if (next < end)
				snprintf(out, len, "%s", next);
			else
				return false;
			return true;
		}
		if (!strncmp(a, "-m", 2) && a[2]) {
			snprintf(out, len, "%s", a + 2);
			return true;
		}
		if (!strcmp(a, "-X") || !strcmp(a, "-W")) {
			a += strlen(a) + 1; /* its value */
			if (a >= end)
				return false;
			continue;
		}
		if (a[0] == '-')
			continue;
		snprintf(out, len, "%s", base_name(a));
		if (strlen(out) > 3 && !strcmp(out + strlen(out) - 3, ".py"))
			out[strlen(out) - 3] = 0;
		return out[0] != 0;
	}
	return false;
}

static bool env_service(pid_t pid, char *out, size_t len)
{
	static const char *const keys[] = { "OTEL_SERVICE_NAME=", "PYROSCOPE_APPLICATION_NAME=" };
	char path[64], *buf = xmalloc(65536);
	bool found = false;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, 65535, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	for (size_t k = 0; k < 2 && !found; k++)
		for (const char *e = buf; e < buf + n; e += strlen(e) + 1)
			if (!strncmp(e, keys[k], strlen(keys[k])) && e[strlen(keys[k])]) {
				snprintf(out, len, "%s", e + strlen(keys[k]));
				found = true;
				break;
			}
	free(buf);
	return found;
}

/* From /proc/PID/cgroup: the systemd unit ("nginx" of .../nginx.service;
 * user@N.service is a login, not a service) and a container id (64 hex
 * digits in the path, as docker, containerd and podman name them).
 */
static void cgroup_info(pid_t pid, char *unit, size_t ulen, char *cid, size_t clen, char *all,
			size_t alen)
{
	char path[64], line[1024];
	size_t used = 0;
	FILE *f;

	unit[0] = cid[0] = all[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		line[strcspn(line, "\n")] = 0;
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p)
			continue;
		p++;
		if (used + strlen(p) + 2 < alen)
			used += snprintf(all + used, alen - used, "%s\n", p);
		for (char *c = strtok(p, "/"); c; c = strtok(NULL, "/")) {
			size_t l = strlen(c), run = 0;

			if (l > 8 && !strcmp(c + l - 8, ".service") && strncmp(c, "user@", 5))
				snprintf(unit, ulen, "%.*s", (int)(l - 8), c);
			for (size_t i = 0; i < l && !cid[0]; i++) {
				bool hex =
				    (c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f');

				run = hex ? run + 1 : 0;
				if (run == 64 &&
				    (i + 1 == l || !((c[i + 1] >= '0' && c[i + 1] <= '9') ||
						     (c[i + 1] >= 'a' && c[i + 1] <= 'f'))))
					snprintf(cid, clen, "%.64s", c + i - 63);
			}
		}
	}
	fclose(f);
}

/* "3.11" from an executable or library name holding python3.11; "" if none. */
static void python_version(pid_t pid, char *out, size_t len, bool *python)
{
	char path[64], exe[PATH_MAX], line[1024];
	ssize_t n;
	FILE *f;
	const char *v;
	int maj, min;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	*python = !strncmp(base_name(exe), "python", 6);
	if (*python && sscanf(base_name(exe), "python%d.%d", &maj, &min) == 2) {
		snprintf(out, len, "%d.%d", maj, min);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		v = strstr(line, "libpython");
		if (v && sscanf(v, "libpython%d.%d", &maj, &min) == 2) {
			snprintf(out, len, "%d.%d", maj, min);
			*python = true;
			break;
		}
	}
	if (f)
		fclose(f);
}

int service__exe_id(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st))
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

int service__describe(pid_t pid, struct service_info *si)
{
	char script[128], path[64];
	size_t n;
	ssize_t l;

	memset(si, 0, sizeof(*si));
	si->start = procfs__start_time(pid);
	if (!si->start)
		return -ESRCH;
	read_cmdline(pid, si->cmdline, sizeof(si->cmdline), &n);
	cgroup_info(pid, si->unit, sizeof(si->unit), si->container, sizeof(si->container),
		    si->cgroups, sizeof(si->cgroups));
	python_version(pid, si->pyver, sizeof(si->pyver), &si->python);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	l = readlink(path, si->exe, sizeof(si->exe) - 1);
	si->exe[l > 0 ? l : 0] = 0;
	service__exe_id(pid, &si->exe_dev, &si->exe_ino);
	if (env_service(pid, si->service, sizeof(si->service)))
		;
	else if (si->unit[0])
		snprintf(si->service, sizeof(si->service), "%s", si->unit);
	else if (si->container[0])
		snprintf(si->service, sizeof(si->service), "container-%.12s", si->container);
	else if (script_name(si->cmdline, n, script, sizeof(script)))
		snprintf(si->service, sizeof(si->service), "%s", script);
	else if (!procfs__comm(pid, si->service, sizeof(si->service)))
		return -ESRCH;
	/* The command line as one string, for matching. */
	for (size_t i = 0; i + 1 < n; i++)
		if (!si->cmdline[i])
			si->cmdline[i] = ' ';
	return 0;
}
