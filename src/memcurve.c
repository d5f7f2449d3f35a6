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
	memset(mc, 0, sizeof(*mc));
}

void memcurve__add(struct memcurve *mc, double t, uint64_t rss)
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
		}
		mc->n /= 2;
		mc->keep_every *= 2;
		mc->thinned++;
	}
	if (mc->n == mc->cap) {
		mc->cap = mc->cap ? mc->cap * 2 : 256;
		mc->t = xrealloc(mc->t, mc->cap * sizeof(*mc->t));
		mc->rss = xrealloc(mc->rss, mc->cap * sizeof(*mc->rss));
	}
	mc->t[mc->n] = t;
	mc->rss[mc->n++] = rss;
}

double memcurve__rate(const struct memcurve *mc, double tail, double *from)
{
	double start, sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0, y0;
	size_t i;

	*from = -1;
	if (mc->n < 3)
		return 0;
	start = mc->t[mc->n - 1] - tail * (mc->t[mc->n - 1] - mc->t[0]);
	for (i = 0; i < mc->n && mc->t[i] < start; i++)
		;
	if (mc->n - i < 3)
		return 0;
	*from = mc->t[i];
	y0 = (double)mc->rss[i]; /* against a base: bytes squared overflow doubles' precision */
	for (; i < mc->n; i++) {
		double x = mc->t[i] - *from, y = (double)mc->rss[i] - y0;

		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		k++;
	}
	if (k * sxx - sx * sx <= 0)
		return 0;
	return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

uint64_t memcurve__rss_of(const pid_t *pids, size_t n)
{
	static long page;
	uint64_t sum = 0;
	char path[64], buf[256];

	if (!page)
		page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < n; i++) {
		unsigned long long size, resident;

		snprintf(path, sizeof(path), "/proc/%d/statm", (int)pids[i]);
		if (read_text_file(path, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%llu %llu", &size, &resident) != 2)
			continue;
		sum += (uint64_t)resident * page;
	}
	return sum;
}
