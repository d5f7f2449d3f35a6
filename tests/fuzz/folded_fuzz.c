// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness: arbitrary bytes through the collapsed-stack reader,
 * then whatever it accepted through every writer and a self-diff, so a frame
 * name the reader lets in cannot break a format. Build: make fuzz.
 */
#include <stdint.h>
#include <stdio.h>

#include "calltree.h"
#include "flamegraph.h"
#include "folded.h"
#include "output.h"
#include "profile.h"
#include "stats.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = profile__new();
	struct folded_read_stats st;
	/* The first byte picks strict or lenient, so both paths get fuzzed. */
	unsigned int flags = FOLDED_QUIET | (size && (data[0] & 1) ? FOLDED_LENIENT : 0);
	int ret;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	ret = folded__read_mem((const char *)data, size, "fuzz", p, flags, &st);
	if (st.stacks > st.lines || st.skipped > st.lines || (ret && !st.first_bad))
		__builtin_trap();
	if (!ret && profile__total(p)) {
		struct calltree *t = calltree__new(p);
		struct diff_test test = {
			.norm = (enum diff_norm)(size % DIFF_NORM_MAX),
			.per_sample = { 1, 1 },
			.unit_sec = { 1e-6, 1e-6 },
			.exposure = { 1, 1 },
			.z_crit = stats__z_crit(0.99),
		};
		struct flamegraph_opts o = {
			.diff = 1,
			.confidence = 0.99,
			.test = &test,
		};

		for (int fmt = OUTPUT_FOLDED; fmt < OUTPUT_FORMAT_MAX; fmt++)
			output__write(devnull, p, (enum output_format)fmt);
		calltree__add(t, p, 0);
		calltree__add(t, p, 1);
		flamegraph__write_tree(devnull, t, p, profile__meta(p), &o);
		calltree__free(t);
	}
	profile__free(p);
	return 0;
}
