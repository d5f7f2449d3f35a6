#!/usr/bin/env bash
# Targets are processes, not numbers: a process that takes an exited
# target's PID (forced through /proc/sys/kernel/ns_last_pid) is never
# profiled as the target, and children are followed however many come and go.
. "$(dirname "$0")/lib.sh"

require_bpf
[ -x "$BUILD/spin" ] && [ -x "$BUILD/oddproc" ] || skip_all "workloads not built (run tests/run.sh)"
[ -w /proc/sys/kernel/ns_last_pid ] || skip_all "needs /proc/sys/kernel/ns_last_pid"

# take_pid PID: start an unrelated spinner ($BUILD/spin, frames hot/warm) with
# that PID; its PID on stdout, or nothing when another process got it first.
take_pid() {
	local want=$1 got i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo $((want - 1)) >/proc/sys/kernel/ns_last_pid
		"$BUILD/spin" 2 >/dev/null 2>&1 &
		got=$!
		[ "$got" -eq "$want" ] && { echo "$got"; return 0; }
		kill "$got"
		wait "$got" 2>/dev/null
	done
	return 1
}

test_expect_success '-p: a new process with the exited target'"'"'s PID is not profiled' '
	"$BUILD/oddproc" shortlived 1 & target=$! &&
	{ "$RAMPA" record -p $target -o p.folded 2>err & } && rec=$! && bg_track $rec &&
	wait $target; spinner=$(take_pid $target) && bg_track $spinner &&
	timeout 20 tail --pid=$rec -f /dev/null && wait $rec &&
	grep -q "the target exited" err &&
	grep -q "^shortlived;" p.folded && ! grep -Eq "(;hot|;warm|;spin_until)" p.folded
'
test_expect_success '-- CMD: an exited child'"'"'s PID taken by another process is not followed' '
	rm -f childpid &&
	{ "$RAMPA" record -o c.folded -- sh -c "\"$BUILD/oddproc\" burnchild 0.5 & echo \$! >childpid; wait; sleep 3" 2>err & } &&
	rec=$! && bg_track $rec &&
	wait_for test -s childpid && child=$(cat childpid) &&
	wait_for sh -c "! kill -0 $child 2>/dev/null" &&
	spinner=$(take_pid $child) && bg_track $spinner &&
	wait $rec &&
	grep -q "^burnchild;" c.folded && ! grep -Eq "(;hot|;warm|;spin_until)" c.folded
'
test_expect_success '-- CMD: children are followed after 5000 have come and gone' '
	"$RAMPA" record -o many.folded -- sh -c "i=0; while [ \$i -lt 5000 ]; do ( : ) & wait; i=\$((i + 1)); done; \"$BUILD/oddproc\" lastchild 0.5; true" 2>err &&
	grep -q "^lastchild;" many.folded && [ "$(share many.folded "^lastchild;")" != 0 ] &&
	! grep -q "children not followed" err
'
test_done
