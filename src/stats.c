// SPDX-License-Identifier: GPL-2.0
#include <math.h>

#include "stats.h"

double stats__z(double x1, double n1, double x2, double n2)
{
	double p, se;

	if (n1 <= 0 || n2 <= 0)
		return 0;
	p = (x1 + x2) / (n1 + n2);
	se = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
	if (se <= 0)
		return 0;
	return (x2 / n2 - x1 / n1) / se;
}

double stats__z_crit(double confidence)
{
	double lo = 0, hi = 40, target = 1 - confidence;

	/* Two-sided tail P(|Z| > z) = erfc(z / sqrt 2); bisect for it. */
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (erfc(mid / M_SQRT2) > target)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double stats__z_poisson(double x1, double e1, double x2, double e2)
{
	double n = x1 + x2, p, se;

	if (e1 <= 0 || e2 <= 0 || n <= 0)
		return 0;
	p = e2 / (e1 + e2);
	se = sqrt(n * p * (1 - p));
	return se > 0 ? (x2 - n * p) / se : 0;
}

const struct diff_norm_info diff_norms[DIFF_NORM_MAX] = {
	[DIFF_ABSOLUTE] = { "absolute", "absolute time (same fixed work in both runs)",
			    "Poisson test on sample counts", "CHANGE" },
	[DIFF_PER_SECOND] = { "per-second", "time per second of wall (windows of any length)",
			      "Poisson test on sample rates", "CHANGE/s" },
	[DIFF_SHARES] = { "shares", "shares of each profile's total", "two-proportion z-test",
			  "POINTS" },
};

void diff_test__compare(const struct diff_test *t, double b, double bt, double n, double nt,
			struct diff_change *c)
{
	double xb = b / t->per_sample[0], xn = n / t->per_sample[1];

	c->base_pct = bt ? 100 * b / bt : 0;
	c->new_pct = nt ? 100 * n / nt : 0;
	c->pts = c->new_pct - c->base_pct;
	c->time_known = t->unit_sec[0] > 0 && t->unit_sec[1] > 0;
	c->base_sec = b * t->unit_sec[0] / t->exposure[0];
	c->new_sec = n * t->unit_sec[1] / t->exposure[1];
	c->delta_sec = c->new_sec - c->base_sec;
	switch (t->norm) {
	case DIFF_SHARES:
		c->z = stats__z(xb, bt / t->per_sample[0], xn, nt / t->per_sample[1]);
		c->delta = c->pts;
		break;
	default:
		c->z = stats__z_poisson(xb, t->exposure[0], xn, t->exposure[1]);
		c->delta = c->time_known ? c->delta_sec : xn / t->exposure[1] - xb / t->exposure[0];
		break;
	}
	c->significant = fabs(c->z) >= t->z_crit && c->delta != 0;
}
