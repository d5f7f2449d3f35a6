/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RAMPA_STATS_H
#define RAMPA_STATS_H

#include <stdint.h>

/* Two-proportion z-test: x1 of n1 against x2 of n2, pooled standard error.
 * Positive when the second share is larger; 0 when undefined.
 */
double stats__z(double x1, double n1, double x2, double n2);
/* The |z| above which a two-sided test rejects "no change" at confidence
 * (e.g. 0.99 -> 2.576).
 */
double stats__z_crit(double confidence);
/* Two Poisson counts: x1 seen over exposure e1 against x2 over e2 (the
 * conditional binomial test of x2 given x1 + x2). Positive when the second
 * rate is larger; 0 when undefined.
 */
double stats__z_poisson(double x1, double e1, double x2, double e2);

/* What diff compares: one row per --normalize value. */
enum diff_norm {
	DIFF_ABSOLUTE,	 /* total time: two runs of the same fixed work */
	DIFF_PER_SECOND, /* time per second of wall: windows of different length */
	DIFF_SHARES,	 /* share of each profile's total */
	DIFF_NORM_MAX,
};

struct diff_norm_info {
	const char *name;  /* the --normalize value */
	const char *what;  /* what the comparison is, for the first output line */
	const char *test;  /* the significance test */
	const char *delta; /* heading of the change its rows are sorted by */
};
extern const struct diff_norm_info diff_norms[DIFF_NORM_MAX];

struct diff_test {
	enum diff_norm norm;
	double per_sample[2]; /* weight units per sample, BASE and NEW */
	double unit_sec[2];   /* seconds per weight unit; 0: unknown */
	double exposure[2];   /* seconds of wall (per-second); 1 otherwise */
	double z_crit;
};

struct diff_change {
	double base_pct, new_pct, pts; /* shares and their change in points */
	/* Seconds (per second of wall with DIFF_PER_SECOND); time_known 0 when
	 * the units have no time (samples at an unknown rate).
	 */
	double base_sec, new_sec, delta_sec;
	int time_known;
	double z, delta; /* the test's z, and the change it measures */
	int significant;
};

/* Compare weight b of bt (BASE) with n of nt (NEW). */
void diff_test__compare(const struct diff_test *t, double b, double bt, double n, double nt,
			struct diff_change *c);

#endif
