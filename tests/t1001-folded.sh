#!/usr/bin/env bash
# The profile store and the collapsed-stack writer.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"

test_expect_success 'identical stacks merge and lines come out sorted' '
	printf "%s\n" "main;b;c 3" "main;a 1" "main;b;c 4" "main;b 2" | "$TEST_TOOL" folded >out 2>err &&
	printf "%s\n" "main;a 1" "main;b 2" "main;b;c 7" >expect &&
	diff -u expect out && grep -q "stacks=3 frames=4 total=10" err
'
test_expect_success 'frame names are interned once' '
	for i in $(seq 500); do echo "root;f$((i % 10));leaf $i"; done | "$TEST_TOOL" folded >out 2>err &&
	grep -q "stacks=10 frames=12 total=125250" err && [ "$(wc -l <out)" -eq 10 ]
'
test_expect_success 'many distinct stacks survive table growth' '
	for i in $(seq 5000); do echo "r;a$i;b$((i % 7)) 1"; done | "$TEST_TOOL" folded >out 2>err &&
	grep -q "stacks=5000" err && [ "$(awk "{t+=\$NF} END {print t}" out)" -eq 5000 ]
'
test_done
