#!/usr/bin/env bash
# Many threads: Python stacks are found for every thread of a process with
# hundreds or thousands of them, and wall-mode accounting stays within
# threads x duration, at a modest cost, with 2000 threads.
. "$(dirname "$0")/lib.sh"

require_bpf
PY=/usr/bin/python3.11
[ -x $PY ] || skip_all "needs $PY"
W="$TESTS_DIR/workloads/threads.py"

# start_threads N SECONDS MODE: the workload's PID in $wl once every thread runs.
start_threads() {
	rm -f "$TRASH/ready.$1"
	$PY "$W" "$@" >"$TRASH/ready.$1" &
	wl=$!
	bg_track $wl
	wait_for grep -q ready "$TRASH/ready.$1" || wait_for grep -q ready "$TRASH/ready.$1"
}
# python_share FILE: % of samples whose stack has the workload's worker().
python_share() { share "$1" ";worker \\("; }

for n in 300 2000; do
	start_threads $n 30 spin
	test_expect_success "$n threads spinning in Python: every thread's Python stack is found" '
		"$RAMPA" record -p '$wl' -d 2 -o cpu'$n'.folded 2>err &&
		s=$(python_share cpu'$n'.folded) && echo "worker share $s%" &&
		within "$s" 100 4 && ! grep -q "thread beyond" err
	'
	kill $wl
done

start_threads 2000 30 sleep
test_expect_success 'wall mode, 2000 threads: at most threads x duration, and cheap' '
	"$RAMPA" record --mode wall -p '$wl' -d 3 -o wall.folded 2>err &&
	dur=$(sed -n "1s/.*duration \([0-9.]*\) s.*/\1/p" wall.folded) &&
	cpu=$(sed -n "s/.*profiler CPU .*(\([0-9.]*\)% of one core.*/\1/p" err) &&
	echo "duration $dur s, profiler CPU $cpu%, total $(total wall.folded) us" &&
	awk -v t="$(total wall.folded)" -v d="$dur" -v c="$cpu" \
		"BEGIN { r = t / 1e6 / (2001 * d); print \"ratio \" r; exit !(r <= 1.01 && r >= 0.8 && c < 60) }"
'
kill $wl
test_done
