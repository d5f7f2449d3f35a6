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
