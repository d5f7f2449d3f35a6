#!/usr/bin/env bash
# The hash map behind the session's tables (src/u64map.c): random puts,
# finds and deletions on colliding keys agree with a plain array.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"

for seed in 1 2 3; do
	test_expect_success "200000 random operations, seed $seed" '
		"$TEST_TOOL" u64map 200000 '$seed' >out && cat out && grep -q "^ok [0-9]*$" out
	'
done
test_done
