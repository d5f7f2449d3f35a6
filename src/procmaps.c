// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"
#include "util.h"

static int parse_line(char *line, struct map_entry *e)
{
	char perms[8];
	int pos = 0;
	size_t len;
	char *path;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &e->start,
		   &e->end, perms, &e->pgoff, &e->dev_major, &e->dev_minor, &e->inode, &pos) < 7)
		return -1;
	if (pos == 0 || strlen(perms) < 4 || e->end <= e->start)
		return -1;
	e->exec = perms[2] == 'x';
	path = line + pos;
	len = strlen(path);
	while (len && (path[len - 1] == '\n' || path[len - 1] == ' '))
		path[--len] = '\0';
	e->deleted = false;
	if (len > 10 && !strcmp(path + len - 10, " (deleted)")) {
		e->deleted = true;
		path[len - 10] = '\0';
	}
	e->path = xstrdup(path);
	return 0;
}

struct proc_maps *proc_maps__parse_file(const char *fname)
{
	struct proc_maps *maps;
	size_t cap = 0, linecap = 0;
	char *line = NULL;
	FILE *f;

	f = fopen(fname, "re");
	if (!f)
		return NULL;
	maps = xcalloc(1, sizeof(*maps));
	while (getline(&line, &linecap, f) > 0) {
		struct map_entry e = {};
		const char *perms = strchr(line, ' ');

		/* Most lines map data: passed over before they are parsed. */
		if (perms && strlen(perms) > 4 && perms[3] != 'x')
			continue;
		if (parse_line(line, &e))
			continue;
		if (!e.exec) {
			free(e.path);
			continue;
		}
		grow_array((void **)&maps->entries, &cap, maps->n + 1, sizeof(e));
		maps->entries[maps->n++] = e;
	}
	free(line);
	fclose(f);
	return maps;
}

struct proc_maps *proc_maps__read(pid_t pid)
{
	struct proc_maps *maps;
	struct dirent *de;
	char fname[320];
	DIR *dir;

	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)pid);
	maps = proc_maps__parse_file(fname);
	if (maps && maps->n)
		return maps;
	/* A process whose main thread exited shows no maps for it; any thread
	 * still running shares the same address space.
	 */
	snprintf(fname, sizeof(fname), "/proc/%d/task", (int)pid);
	dir = opendir(fname);
	while (dir && (de = readdir(dir))) {
		if (atoi(de->d_name) <= 0 || atoi(de->d_name) == pid)
			continue;
		proc_maps__free(maps);
		snprintf(fname, sizeof(fname), "/proc/%d/task/%s/maps", (int)pid, de->d_name);
		maps = proc_maps__parse_file(fname);
		if (maps && maps->n)
			break;
	}
	if (dir)
		closedir(dir);
	return maps;
}

const struct map_entry *proc_maps__find(const struct proc_maps *maps, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!maps)
		return NULL;
	hi = maps->n;
	/* The kernel lists mappings in address order. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct map_entry *e = &maps->entries[mid];

		if (addr < e->start)
			hi = mid;
		else if (addr >= e->end)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

void proc_maps__free(struct proc_maps *maps)
{
	if (!maps)
		return;
	for (size_t i = 0; i < maps->n; i++)
		free(maps->entries[i].path);
	free(maps->entries);
	free(maps);
}
