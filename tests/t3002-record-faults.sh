#!/usr/bin/env bash
# Faults during a recording: the profile collected so far is always written,
# exit codes are the documented ones, and no temporary file is left behind.
. "$(dirname "$0")/lib.sh"
require_bpf

no_temp_left() { ! ls -a | grep -q '^\..*\.folded\.'; }

test_expect_success 'a -p target that exits mid-run: profile written with a note' '
	"$BUILD/spin" 1 >/dev/null 2>&1 </dev/null & t=$!
	"$RAMPA" record -p $t -d 20 -o exit.folded 2>err &&
	grep -q "the target exited" err &&
	within "$(share exit.folded ";hot;spin_until")" 75 8 && no_temp_left
'
for sig in INT TERM; do
	test_expect_success "SIG$sig ends a -p recording and still writes the profile" '
		"$BUILD/spin" 20 >/dev/null 2>&1 </dev/null & t=$!
		test_when_finished "kill $t" &&
		{ "$RAMPA" record -p $t -o sig.folded 2>err & r=$!; } &&
		wait_profiling err && sleep 1.5 && kill -'$sig' $r && wait $r &&
		[ "$(total sig.folded)" -ge 100 ] && no_temp_left &&
		grep -Eq "\((interrupted|stopped by a signal)\)" err
	'
done
test_expect_success 'SIGTERM during record -- CMD: profile written, CMD terminated too' '
	"$RAMPA" record -o cmdterm.folded -- "$BUILD/spin" 20 2>err & r=$!
	wait_profiling err && sleep 1.5 && kill -TERM $r && test_expect_code 143 wait $r &&
	[ "$(total cmdterm.folded)" -ge 100 ] &&
	! pgrep -f "$BUILD/spin 20" >/dev/null
'
test_expect_success '-d is a deadline: record -d 2 -- CMD returns on time, CMD stopped' '
	start=$(date +%s.%N)
	test_expect_code 143 "$RAMPA" record -d 2 -o deadline.folded -- \
		sh -c "\"$BUILD/spin\" 1; exec sleep 15" 2>err &&
	took=$(echo "$(date +%s.%N) - $start" | bc) && echo "took $took s" && cat err &&
	awk -v t="$took" "BEGIN { exit !(t < 3.5) }" && [ "$(total deadline.folded)" -ge 50 ] &&
	grep -q "stopped it (PID [0-9]*) and its [0-9]* descendants* with SIGTERM" err &&
	! pgrep -f "exec sleep 15" >/dev/null && no_temp_left
'
test_expect_success 'SIGINT to rampa-bpf alone ends record -- CMD promptly, CMD stopped' '
	"$RAMPA" record -o alone.folded -- sh -c "trap \"\" INT; exec sleep 30" 2>err & r=$!
	sleep 1; start=$(date +%s.%N); kill -INT $r; wait $r
	took=$(echo "$(date +%s.%N) - $start" | bc) && echo "took $took s" &&
	awk -v t="$took" "BEGIN { exit !(t < 3.5) }" && [ -e alone.folded ] &&
	! pgrep -f "exec sleep 30" >/dev/null
'
test_expect_success 'record -- CMD returns the exit status of CMD' '
	test_expect_code 7 "$RAMPA" record -q -o st.folded -- sh -c "exit 7" && [ -e st.folded ]
'
test_expect_success 'record -- CMD killed by a signal returns 128+N' '
	test_expect_code 137 "$RAMPA" record -q -o kill.folded -- sh -c "kill -9 \$\$"
'
test_expect_success 'a command that does not exist: exit 127, named, nothing written' '
	test_expect_code 127 "$RAMPA" record -o none.folded -- /no/such/cmd 2>err &&
	grep -q "cannot run ./no/such/cmd.: No such file or directory" err &&
	[ ! -e none.folded ] && no_temp_left
'
test_expect_success 'an executable deleted while profiled still resolves' '
	cp "$BUILD/spin" doomed || exit 1
	./doomed 20 >/dev/null 2>&1 </dev/null & t=$!
	sleep 0.3; rm -f doomed
	"$RAMPA" record -p $t -d 1 -o deleted.folded 2>err; kill $t
	within "$(share deleted.folded "^doomed;.*;hot;spin_until")" 75 8
'
test_expect_success 'an executable replaced while profiled resolves against the old file' '
	cp "$BUILD/spin" replaced || exit 1
	./replaced 20 >/dev/null 2>&1 </dev/null & t=$!
	sleep 0.3; cp "$BUILD/symfix-pie" replaced.new && mv replaced.new replaced
	"$RAMPA" record -p $t -d 1 -o replaced.folded 2>err; kill $t
	within "$(share replaced.folded "^replaced;.*;hot;spin_until")" 75 8
'
test_expect_success 'an idle target gives an empty profile and a warning, not an error' '
	sleep 30 & t=$!
	test_when_finished "kill $t" &&
	"$RAMPA" record -p $t -d 0.5 -o idle.folded 2>err &&
	[ -e idle.folded ] && ! grep -qv "^# " idle.folded && grep -q "no samples" err
'
test_done
