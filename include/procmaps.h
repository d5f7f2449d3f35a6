/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_PROCMAPS_H
#define RAMPA_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct map_entry {
	uint64_t start, end, pgoff;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	bool exec;
	bool deleted; /* the kernel marked the path " (deleted)" */
	char *path;   /* as the kernel shows it, without " (deleted)"; "" if anonymous */
};

struct proc_maps {
	struct map_entry *entries; /* sorted by start */
	size_t n;
};

/* Parse /proc/PID/maps; only executable mappings are kept. NULL if unreadable. */
struct proc_maps *proc_maps__read(pid_t pid);
/* Parse a maps file at path (tests drive fixtures through it). */
struct proc_maps *proc_maps__parse_file(const char *path);
const struct map_entry *proc_maps__find(const struct proc_maps *maps, uint64_t addr);
void proc_maps__free(struct proc_maps *maps);

#endif
