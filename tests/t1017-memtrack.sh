#!/usr/bin/env bash
# mem's retained growth and churn by stack (src/memtrack.c), driven by
# tests/test-tool memtrack: mappings kept by range under --precise (cut by a
# partial munmap, moved, grown and shrunk by mremap) and pages moved by
# mremap, with the bytes known by construction (M = 1 MiB).
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"

M=1048576

test_expect_success 'a mapping cut in its middle keeps its two ends' '
	printf "map 1 0x10000000 %d %d 0\nunmap 1 0x11000000 %d\n" $((64 * M)) $((64 * M)) \
		$((32 * M)) | "$TEST_TOOL" memtrack >out && cat out &&
	grep -qx "stack 0 retained $((32 * M)) churn $((32 * M))" out &&
	printf "unmap 1 0x10000000 %d\nunmap 1 0x13000000 %d\n" $((16 * M)) $((16 * M)) >>in &&
	printf "map 1 0x10000000 %d %d 0\nunmap 1 0x11000000 %d\n" $((64 * M)) $((64 * M)) \
		$((32 * M)) | cat - in | "$TEST_TOOL" memtrack >out2 && cat out2 &&
	grep -qx "stack 0 retained 0 churn $((64 * M))" out2
'

test_expect_success 'a munmap over several mappings and what lies between' '
	printf "map 1 0x10000000 %d %d 0\nmap 1 0x10200000 %d %d 1\nunmap 1 0x10080000 %d\n" \
		$M $M $M $M $((2 * M)) | "$TEST_TOOL" memtrack >out && cat out &&
	grep -qx "stack 0 retained $((M / 2)) churn $((M / 2))" out &&
	grep -qx "stack 1 retained $((M / 2)) churn $((M / 2))" out
'

test_expect_success 'grown in place by mremap: the growth goes to what grew it' '
	printf "map 1 0x10000000 %d %d 0\nremap 1 0x10000000 %d 0x10000000 %d %d 1\n" \
		$M $M $M $((64 * M)) $((63 * M)) | "$TEST_TOOL" memtrack >out && cat out &&
	grep -qx "stack 0 retained $M churn 0" out &&
	grep -qx "stack 1 retained $((63 * M)) churn 0" out
'

test_expect_success 'moved and shrunk: the rest is given back, the old place is empty' '
	printf "map 1 0x10000000 %d %d 0\nremap 1 0x10000000 %d 0x20000000 %d\n" \
		$((32 * M)) $((32 * M)) $((32 * M)) $((16 * M)) >in &&
	printf "unmap 1 0x10000000 %d\n" $((32 * M)) >>in &&
	"$TEST_TOOL" memtrack <in >out && cat out &&
	grep -qx "stack 0 retained $((16 * M)) churn $((16 * M))" out &&
	printf "unmap 1 0x20000000 %d\n" $((16 * M)) >>in &&
	"$TEST_TOOL" memtrack <in >out2 && grep -qx "stack 0 retained 0 churn $((32 * M))" out2
'

test_expect_success 'a mapping moved over another (MREMAP_FIXED) replaces it' '
	printf "map 1 0x10000000 %d %d 0\nmap 1 0x20000000 %d %d 1\n" \
		$M $M $M $M >in &&
	printf "remap 1 0x10000000 %d 0x20000000 %d\n" $M $M >>in &&
	"$TEST_TOOL" memtrack <in >out && cat out &&
	grep -qx "stack 0 retained $M churn 0" out && grep -qx "stack 1 retained 0 churn $M" out
'

test_expect_success 'a small mapping standing for more: a part of it, its share' '
	# 64 KiB sampled, standing for 256 KiB: half of it unmapped is 128 KiB.
	printf "map 1 0x10000000 65536 262144 0\nunmap 1 0x10008000 32768\n" |
		"$TEST_TOOL" memtrack >out && cat out &&
	grep -qx "stack 0 retained 131072 churn 131072" out
'

test_expect_success 'pages moved by mremap over sampled pages: those are given back' '
	printf "fault 1 0x10000000 4096 0\nfault 1 0x10001000 4096 0\nfault 1 0x20000000 4096 1\n" \
		>in &&
	printf "move 1 0x10000000 8192 0x1ffff000 8192\n" >>in &&
	"$TEST_TOOL" memtrack <in >out && cat out &&
	grep -qx "stack 0 retained 8192 churn 0" out &&
	grep -qx "stack 1 retained 0 churn 4096" out &&
	printf "move 1 0x1ffff000 8192 0x30000000 4096\nrelease 1 0x1ffff000 8192\n" >>in &&
	"$TEST_TOOL" memtrack <in >out2 && cat out2 &&
	grep -qx "stack 0 retained 4096 churn 4096" out2
'

test_expect_success 'processes apart: another PID at the same address is not cut' '
	printf "map 1 0x10000000 %d %d 0\nmap 2 0x10000000 %d %d 1\nunmap 2 0x10000000 %d\n" \
		$M $M $M $M $M | "$TEST_TOOL" memtrack >out && cat out &&
	grep -qx "stack 0 retained $M churn 0" out && grep -qx "stack 1 retained 0 churn $M" out
'
test_done
