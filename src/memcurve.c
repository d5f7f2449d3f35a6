// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memcurve.h"
#include "util.h"

void memcurve__init(struct memcurve *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->keep_every = 1;
}

void memcurve__free(struct memcurve *mc)
{
	free(mc->t);
	free(mc->rss);
	free(mc->anon);
	memset(mc, 0, sizeof(*mc));
}

void memcurve__add(struct memcurve *mc, double t, uint64_t rss, uint64_t anon)
{
	if (!mc->n || rss > mc->peak) {
		mc->peak = rss;
		mc->peak_t = t;
	}
	/* Thinned: a long run keeps a point every keep_every samples. */
	if (mc->n && ++mc->skipped < mc->keep_every)
		return;
	mc->skipped = 0;
	if (mc->n == MEMCURVE_MAX_POINTS) {
		for (size_t i = 0; i < mc->n / 2; i++) {
			mc->t[i] = mc->t[2 * i];
			mc->rss[i] = mc->rss[2 * i];
			mc->anon[i] = mc->anon[2 * i];
		}
		mc->n /= 2;
		mc->keep_every *= 2;
		mc->thinned++;
	}
	if (mc->n == mc->cap) {
		mc->cap = mc->cap ? mc->cap * 2 : 256;
		mc->t = xrealloc(mc->t, mc->cap * sizeof(*mc->t));
		mc->rss = xrealloc(mc->rss, mc->cap * sizeof(*mc->rss));
		mc->anon = xrealloc(mc->anon, mc->cap * sizeof(*mc->anon));
	}
	mc->t[mc->n] = t;
	mc->anon[mc->n] = anon;
	mc->rss[mc->n++] = rss;
}

double memcurve__rate(const struct memcurve *mc, double tail, double *from)
{
	uint64_t low[2] = { UINT64_MAX, UINT64_MAX };
	size_t n[2] = { 0, 0 }, i;
	double start, mid, end;

	*from = -1;
	if (mc->n < 4)
		return 0;
	end = mc->t[mc->n - 1];
	start = end - tail * (end - mc->t[0]);
	mid = (start + end) / 2;
	for (i = 0; i < mc->n; i++) {
		int h = mc->t[i] >= mid;

		if (mc->t[i] < start)
			continue;
		n[h]++;
		if (mc->rss[i] < low[h])
			low[h] = mc->rss[i];
	}
	if (n[0] < 2 || n[1] < 2 || mid <= start)
		return 0;
	*from = start;
	return ((double)low[1] - (double)low[0]) / (mid - start);
}

size_t memcurve__cut_final_fall(struct memcurve *mc, uint64_t step, double shutdown_t)
{
	size_t k = mc->n, keep;

	if (!mc->n)
		return 0;
	/* Known: the points from then on go (the shutdown can pause while
	 * it frees, and a level the program kept before it, a buffer freed
	 * half a second before the end, is no shutdown).
	 */
	if (shutdown_t >= 0 && mc->t[mc->n - 1] - shutdown_t <= MEMCURVE_SHUTDOWN_SEC) {
		while (k > 1 && mc->t[k - 1] >= shutdown_t)
			k--;
		/* It frees before it gives back: the fall just before. */
		while (k > 1 && mc->rss[k - 1] + step < mc->rss[k - 2] &&
		       shutdown_t - mc->t[k - 2] <= MEMCURVE_SHUTDOWN_SEC)
			k--;
		keep = mc->n - k;
		mc->n = k;
		return keep;
	}
	/* Back to the last rise, then forward while still at that top; within
	 * the shutdown's last MEMCURVE_SHUTDOWN_SEC only: a fall before that
	 * (a child that exited, a cache cleared) is the program running.
	 */
	while (k > 1 && mc->rss[k - 2] >= mc->rss[k - 1] &&
	       mc->t[mc->n - 1] - mc->t[k - 2] <= MEMCURVE_SHUTDOWN_SEC)
		k--;
	keep = k;
	while (keep < mc->n && mc->rss[keep] + step >= mc->rss[k - 1])
		keep++;
	k = mc->n - keep;
	mc->n = keep;
	return k;
}

uint64_t memcurve__rss_of(const pid_t *pids, size_t n, uint64_t *anon)
{
	static long page;
	uint64_t sum = 0;
	char path[64], buf[256];

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	if (anon)
		*anon = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned long long size, resident, shared;

		snprintf(path, sizeof(path), "/proc/%d/statm", (int)pids[i]);
		if (read_text_file(path, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3)
			continue;
		sum += (uint64_t)resident * page;
		if (anon && resident > shared)
			*anon += (uint64_t)(resident - shared) * page;
	}
	return sum;
}

uint64_t memcurve__pss_of(pid_t pid, uint64_t *anon)
{
	char path[64], line[128];
	unsigned long long kb;
	uint64_t pss = 0;
	FILE *f;

	*anon = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Pss: %llu kB", &kb) == 1)
			pss = (uint64_t)kb * 1024;
		else if (sscanf(line, "Pss_Anon: %llu kB", &kb) == 1)
			*anon = (uint64_t)kb * 1024;
	}
	fclose(f);
	return pss;
}
