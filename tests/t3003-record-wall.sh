#!/usr/bin/env bash
# Wall-clock and off-CPU time: per cycle alpha() spins 30 ms, beta() 10 ms and
# gamma() sleeps 20 ms, so wall time is 50/16.7/33.3%, CPU time has no gamma,
# and off-CPU time is all gamma, asleep in the kernel.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t3003.XXXXXX)
cp "$TESTS_DIR/workloads/split.py" "$TESTS_DIR/workloads/blocked.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
F="$WL/split.py"
PY=/usr/bin/python3.11
cd "$TRASH" || exit 1

# Wall and off-CPU shares are of wall time: spin() counts wall time there.
for mode in wall cpu offcpu; do
	clock=--clock=wall
	[ $mode = cpu ] && clock=
	"$RAMPA" record --mode $mode -F 999 -o $mode.folded -- $PY "$F" 3 --sleep $clock 2>$mode.err
done
test_expect_success 'wall: alpha 50%, beta 16.7%, gamma 33.3% of the cycle' '
	grep ";cycle (" wall.folded >wall.cycle &&
	a=$(share wall.cycle ";alpha \\(") && b=$(share wall.cycle ";beta \\(") &&
	g=$(share wall.cycle ";gamma \\(") && echo "alpha=$a beta=$b gamma=$g" &&
	within "$a" 50 3 && within "$b" 16.7 3 && within "$g" 33.3 3
'
test_expect_success 'wall: counts are microseconds and add up to the run time' '
	grep -q "mode          wall: .*counts are microseconds" wall.err &&
	secs=$(sed -n "s/.* for \([0-9.]*\) s (command exited)/\1/p" wall.err) &&
	t=$(total wall.folded) && echo "total=$t us, run=$secs s" &&
	within "$(awk -v t=$t -v s=$secs "BEGIN { print 100 * t / (s * 1e6) }")" 100 3
'
test_expect_success 'wall: sleeping time is marked [off-cpu] under the kernel sleep' '
	grep -q ";gamma ([^)]*);.*do_nanosleep_\[k\].*;\[off-cpu\] [0-9]*$" wall.folded &&
	within "$(share wall.folded "\\[off-cpu\\]")" 33.3 4
'
# gamma() only calls sleep: its CPU time is the call itself.
test_expect_success 'cpu: gamma next to nothing, alpha 75% and beta 25%' '
	within "$(share cpu.folded ";gamma \\(")" 0 0.5 &&
	within "$(share cpu.folded ";cycle \\([^)]*\\);alpha")" 75 4
'
test_expect_success 'offcpu: only gamma, with a kernel sleep frame below it' '
	g=$(share offcpu.folded ";gamma \\($F:33\\);.*(do_nanosleep|hrtimer_nanosleep)_\\[k\\]") &&
	echo "gamma=$g" && within "$g" 100 2 && ! grep -Eq ";(alpha|beta) \\(" offcpu.folded &&
	grep -q "mode          offcpu: .*counts are microseconds" offcpu.err
'
test_expect_success 'offcpu: gamma sleeps a third of the run' '
	secs=$(sed -n "s/.* for \([0-9.]*\) s (command exited)/\1/p" offcpu.err) &&
	t=$(total offcpu.folded) &&
	within "$(awk -v t=$t -v s=$secs "BEGIN { print 100 * t / (s * 1e6) }")" 33.3 3
'

B="$WL/blocked.py"
"$RAMPA" record --mode offcpu -o blocked.folded --per-thread -- $PY "$B" 2 2>blocked.err
test_expect_success 'a thread blocked on a loopback recv: Python stack and tcp_recvmsg' '
	grep -Eq "^python3.11;[^;]+-[0-9]+;.*;wait_for_data \\($B:17\\);.*tcp_recvmsg_\\[k\\]" blocked.folded
'
test_expect_success 'a thread blocked on a threading.Lock: Python stack and a futex wait' '
	grep -Eq "^python3.11;[^;]+-[0-9]+;.*;wait_for_lock \\($B:23\\);.*futex_wait[a-z_]*_\\[k\\]" blocked.folded
'
# The threads start once the interpreter is up and block while main sleeps
# 2 s: each is off-CPU for those 2 s (not the run, which has start-up too).
test_expect_success '--per-thread: each blocked thread accounts the 2 s it was blocked' '
	secs=2 &&
	for f in wait_for_data wait_for_lock; do
		t=$(grep ";$f (" blocked.folded | cut -d";" -f2 | sort -u) &&
		[ "$(echo "$t" | wc -l)" -eq 1 ] &&
		us=$(grep "^python3.11;$t;" blocked.folded | awk "{ s += \$NF } END { print s }") &&
		echo "$t=$us us of $secs s" &&
		within "$(awk -v t=$us -v s=$secs "BEGIN { print 100 * t / (s * 1e6) }")" 100 5 || exit 1
	done
'

$PY -c 'import time; time.sleep(3600)' & sleeper=$!
bg_track $sleeper
sleep 0.5
test_expect_success 'a thread asleep before the run starts is accounted the whole run' '
	"$RAMPA" record --mode wall -p $sleeper -d 2 -o asleep.folded 2>err &&
	grep -q "1 threads asleep at the start" err &&
	grep -Eq "^python3.11;<module> \\(<string>:1\\);.*(do_nanosleep|hrtimer_nanosleep)_\\[k\\];\\[off-cpu\\]" asleep.folded &&
	within "$(awk -v t=$(total asleep.folded) "BEGIN { print 100 * t / 2e6 }")" 100 2
'
$PY "$F" 30 --sleep --threads 2 >/dev/null 2>&1 </dev/null & two=$!
bg_track $two
sleep 0.5
test_expect_success 'wall: per-thread totals equal the run duration within 2%' '
	"$RAMPA" record --mode wall --per-thread -F 999 -p $two -d 3 -o pt.folded 2>err &&
	secs=$(sed -n "s/.* for \([0-9.]*\) s$/\1/p" err) && echo "run=$secs s" &&
	grep -v "^# " pt.folded | cut -d";" -f2 | sort -u | while IFS= read -r t; do
		us=$(grep -F "python3.11;$t;" pt.folded | awk "{ s += \$NF } END { print s }")
		echo "$t=$us"
	done >threads && cat threads && [ "$(wc -l <threads)" -eq 2 ] &&
	while read -r line; do
		us=${line##*=}
		within "$(awk -v t=$us -v s=$secs "BEGIN { print 100 * t / (s * 1e6) }")" 100 2 || exit 1
	done <threads
'
# a() and b() block in one function at the same depth: the same syscall
# instruction and stack pointer, told apart only by the walk of the stack.
"$RAMPA" record -q --mode offcpu -o callers.folded -- "$BUILD/callers" 2 2>callers.err
test_expect_success 'offcpu: two callers of one blocking function, 3:1, each keeps its own stack' '
	a=$(share callers.folded ";a;pause_ms;") && b=$(share callers.folded ";b;pause_ms;") &&
	echo "a=$a b=$b" && within "$(awk -v a="$a" -v b="$b" "BEGIN { print 100 * a / (a + b) }")" 75 5
'
test_expect_success 'wall: a process stopped (SIGSTOP) before the run: its 4 threads account the window' '
	/usr/bin/python3.11 -c "
import threading, time
for i in range(3):
    threading.Thread(target=time.sleep, args=(100,), daemon=True).start()
time.sleep(100)" & p=$!; bg_track $p
	test_when_finished "kill -CONT $p; kill $p" &&
	sleep 0.5 && kill -STOP $p &&
	"$RAMPA" record -q --mode wall -p $p -d 1 -o stopped.folded &&
	t=$(total stopped.folded) && echo "total $t us" && within "$t" 4000000 80000 &&
	grep -q "do_signal_stop_\[k\]" stopped.folded
'
test_done
