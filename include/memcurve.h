/* SPDX-License-Identifier: GPL-2.0 */
/* Resident memory over time (src/memcurve.c): rampa-bpf mem's RSS samples
 * of the target tree, its peak, and how fast it still grows at the end.
 * Kept apart from the profile so that it can move onto timelines.
 */
#ifndef RAMPA_MEMCURVE_H
#define RAMPA_MEMCURVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Points kept; beyond, every other one goes (counted in thinned). */
#define MEMCURVE_MAX_POINTS 65536

struct memcurve {
	double *t;	/* seconds from the start */
	uint64_t *rss;	/* bytes */
	uint64_t *anon; /* bytes of rss that are anonymous (not file-backed, not shared memory) */
	size_t n, cap;
	uint64_t peak; /* bytes: the highest sample, kept through thinning */
	double peak_t;
	size_t thinned; /* times the points were halved */
	unsigned int keep_every, skipped;
};

void memcurve__init(struct memcurve *mc);
void memcurve__free(struct memcurve *mc);
/* A sample: rss bytes at t seconds, anon of them anonymous. */
void memcurve__add(struct memcurve *mc, double t, uint64_t rss, uint64_t anon);
/* Growth in bytes per second over the last tail (0 to 1) of the time
 * covered, of the low envelope: the lowest RSS of the second half of that
 * part against the lowest of its first half, so that peaks given back
 * (a burst of allocations freed after) are not growth, while a leak raises
 * the floor. *from is where that part starts (s). 0 with fewer than 2
 * points in either half (*from = -1).
 */
double memcurve__rate(const struct memcurve *mc, double tail, double *from);

/* How long an interpreter's shutdown may free memory before it exits. */
#define MEMCURVE_SHUTDOWN_SEC 1.0
/* The targets exited: drop the points of their final fall, which is their
 * shutdown, not their running: those from shutdown_t (s) on when it is
 * known (>= 0: when an interpreter began to shut down) and within the last
 * MEMCURVE_SHUTDOWN_SEC; else after the last time the curve stood within
 * step bytes of its last rise, in the last MEMCURVE_SHUTDOWN_SEC. How many
 * went.
 */
size_t memcurve__cut_final_fall(struct memcurve *mc, uint64_t step, double shutdown_t);

/* Resident bytes of the processes pids (/proc/PID/statm), summed; those
 * gone are skipped. 0 when none could be read. anon (may be NULL): the
 * anonymous part, resident less shared (file-backed and shared memory).
 */
uint64_t memcurve__rss_of(const pid_t *pids, size_t n, uint64_t *anon);
/* The proportional set size of pid in bytes (a page shared by N processes
 * counts 1/N), from /proc/PID/smaps_rollup; 0 when it cannot be read; its
 * anonymous part (Pss_Anon) into *anon. The kernel walks the page tables
 * for it: ~0.1 s for 1 GiB resident.
 */
uint64_t memcurve__pss_of(pid_t pid, uint64_t *anon);

#endif
