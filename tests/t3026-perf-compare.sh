#!/usr/bin/env bash
# Native stacks against a reference: perf record --call-graph dwarf and
# rampa-bpf attached together to one run of the same code built without
# frame pointers (tests/workloads/spin.c; the ctypes chain of
# unwind-chain.c under python3.11). tools/bench/perfcompare.sh prints the
# share of samples per leaf function (self), per caller -> callee edge, and
# of each function's samples per caller; the two tools agree within a few
# points (issue 16).
. "$(dirname "$0")/lib.sh"
require_bpf
command -v perf >/dev/null || skip_all "needs perf (Debian's linux-perf: tools/install-deps.sh --test)"
perf record -q -e cpu-clock -o "$TRASH/probe.data" -- true >/dev/null 2>&1 ||
	skip_all "perf record does not run here"

cd "$TRASH" || exit 1
bash "$ROOT_DIR/tools/bench/perfcompare.sh" 3 >cmp.out 2>cmp.err
cat cmp.out

# rows KIND: "NAME perf rampa difference" of the rows of that kind.
rows() { grep -E "^  $1:" cmp.out; }
test_expect_success 'both workloads were compared' '
	[ "$(grep -c "^== " cmp.out)" -eq 2 ] &&
	rows caller | grep -q "caller:hot>spin_until" &&
	rows caller | grep -q "caller:level2>level3"
'
test_expect_success 'every function has the same callers in the same shares (within 3 points)' '
	rows caller >c && [ -s c ] && awk "\$4 > 3 { print; bad = 1 } END { exit bad }" c
'
test_expect_success 'self and edge shares agree within 5 points' '
	{ rows self; rows edge; } >s && [ -s s ] && awk "\$4 > 5 { print; bad = 1 } END { exit bad }" s
'
test_done
