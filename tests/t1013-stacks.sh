#!/usr/bin/env bash
# The sample-to-frames step (src/stacks.c) on hand-made samples, without
# root: Python frames take the place of the eval-loop frames they ran in,
# run by run; when the counts do not agree, nothing is guessed and the
# Python frames stand above the native leaf instead.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"
T=/app/hand.py

# expect NATIVE PY SPLICE LEAF: what test-tool stacks prints.
expect() {
	printf '%s\n' "$3" "leaf: $4" >expected &&
		"$TEST_TOOL" stacks "$1" "$2" >actual &&
		test_cmp expected actual
}

test_expect_success 'two eval frames, two runs: each run replaces its eval frame' '
	expect main_c,eval,call_c,eval,leaf_c "outer!,middle,inner!" \
		"splice: tt_main_c;outer ($T:10);middle ($T:20);tt_call_c;inner ($T:30);tt_leaf_c" \
		"outer ($T:10);middle ($T:20);inner ($T:30);tt_leaf_c"
'
test_expect_success 'the eval frame as the leaf: the run ends the stack' '
	expect main_c,eval,call_c,eval "outer!,middle,inner!" \
		"splice: tt_main_c;outer ($T:10);middle ($T:20);tt_call_c;inner ($T:30)" \
		"outer ($T:10);middle ($T:20);inner ($T:30);_PyEval_EvalFrameDefault"
'
test_expect_success 'a leaf without its own frame hides one eval frame: its run sits above the leaf' '
	expect main_c,eval,call_c "outer!,middle,inner!" \
		"splice: tt_main_c;outer ($T:10);middle ($T:20);inner ($T:30);tt_call_c" \
		"outer ($T:10);middle ($T:20);inner ($T:30);tt_call_c"
'
test_expect_success 'no eval frame at all (stripped interpreter): no splice' '
	expect main_c,call_c,leaf_c "outer!,inner" "no splice" \
		"outer ($T:10);inner ($T:20);tt_leaf_c"
'
test_expect_success 'more eval frames than runs: no splice, no frame invented' '
	expect main_c,eval,call_c,eval,leaf_c "outer!,inner" "no splice" \
		"outer ($T:10);inner ($T:20);tt_leaf_c"
'
test_expect_success 'more runs than eval frames, by two: no splice' '
	expect main_c,eval,leaf_c "a!,b!,c!" "no splice" \
		"a ($T:10);b ($T:20);c ($T:30);tt_leaf_c"
'
# Where runs entered the eval loop (3.12+), as the kernel's walk and dump's
# snapshot record them: native frames with stack pointers 1000, 1100...
# (leaf first), entry frames "ADDR:DEPTH".
SPS=1000,1100,1200,1300,1400
expect_homes() {
	printf '%s\n' "$3" >expected &&
		"$TEST_TOOL" place-runs "$SPS" "$1" "$2" >actual &&
		test_cmp expected actual
}
test_expect_success 'runs by address: each in the native frame that holds its entry frame' '
	expect_homes 3 1180:2,1380:3 "homes: 1,1,3"
'
test_expect_success 'runs by address: a shim with no frames and a base frame off the stack end no run' '
	expect_homes 3 1180:2,1190:2,1380:3,7fff0000:3 "homes: 1,1,3"
'
test_expect_success 'runs by address: the outermost run without an entry frame is not placed' '
	expect_homes 3 1180:2 "not placed"
'
test_expect_success 'runs by address: runs out of order are not placed' '
	expect_homes 3 1380:2,1180:3 "not placed"
'
# runs N: N one-frame runs, run k in native frame k.
runs() {
	local k
	for k in $(seq 1 "$1"); do printf '%x:%d,' $((0x1000 + k * 0x100 + 0x80)) "$k"; done
}
test_expect_success 'runs by address: 32 runs placed, 33 (more than the kernel keeps) not' '
	SPS=$(for k in $(seq 0 40); do printf "%x," $((0x1000 + k * 0x100)); done) &&
	expect_homes 32 "$(runs 32)" "homes: $(seq -s, 1 32)" &&
	expect_homes 33 "$(runs 33)" "not placed"
'
test_expect_success 'renaming a thread frame leaves a process frame that read the same' '
	printf "%s\n" "process gunicorn-7" "thread MainThread-7" "intern again same" >expected &&
	"$TEST_TOOL" frame-rename >actual && test_cmp expected actual
'
test_done
