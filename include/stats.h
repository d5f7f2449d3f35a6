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

#endif
