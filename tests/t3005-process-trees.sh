#!/usr/bin/env bash
# A target is a process tree: -p follows the children a process forks or
# execs after attach (unless --no-children), the summary lists the processes
# sampled, --per-process gives each its own tree, and the CPU-time coverage
# compares samples with the CPU time of exactly the processes sampled.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t3005.XXXXXX)
cp "$TESTS_DIR/workloads/prefork.py" "$TESTS_DIR/workloads/mp_pool.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
PY=/usr/bin/python3.11

# coverage ERR: the percentage of the CPU-time line.
coverage() { sed -n 's/.*used by the sampled processes (\([0-9.]*\)%).*/\1/p' "$1"; }

test_expect_success 'a pre-fork master attached before it forks: the workers are profiled' '
	$PY "$WL/prefork.py" 1 & m=$!; bg_track $m
	sleep 0.3 && "$RAMPA" record -F 199 -p $m -o prefork.folded 2>err; cat err &&
	w=$(share prefork.folded ";master \\([^)]*\\);handle_requests \\(") && echo "handle_requests=$w" &&
	within "$w" 90 10 &&
	grep -Eq "processes     [23] with samples \(samples\): python3.11 \(PID [0-9]+\) [0-9]+, python3.11 \(PID [0-9]+\) [0-9]+" err &&
	c=$(coverage err) && echo "coverage=$c" && within "$c" 100 15
'
test_expect_success '--no-children: the PID alone' '
	$PY "$WL/prefork.py" 1 & m=$!; bg_track $m
	sleep 0.3 && "$RAMPA" record -F 199 --no-children -p $m -o alone.folded 2>err; cat err &&
	! grep -q "handle_requests" alone.folded
'
test_expect_success '--per-process: a name-PID frame under the root for each process' '
	$PY "$WL/prefork.py" 1 & m=$!; bg_track $m
	sleep 0.3 && "$RAMPA" record -F 199 --per-process -p $m -o per.folded 2>err &&
	n=$(grep -v "^# " per.folded | grep ";handle_requests (" | cut -d";" -f2 | sort -u |
		grep -Ec "^python3.11-[0-9]+$") && echo "worker frames=$n" && [ "$n" -eq 2 ] &&
	! grep -v "^# " per.folded | cut -d";" -f2 | grep -q "^python3.11-$m$" -- /dev/null
'
test_expect_success '--per-process -T: the header says so; thread frames under process frames' '
	$PY "$WL/prefork.py" 1 & m=$!; bg_track $m
	sleep 0.3 && "$RAMPA" record -F 199 --per-process -T -p $m -o pt.folded 2>err &&
	head -1 pt.folded | grep -q ", groups process+thread$" &&
	grep -v "^# " pt.folded | grep ";handle_requests (" >w &&
	! cut -d";" -f3 w | grep -vEq -- "-[0-9]+$" &&
	cut -d";" -f2,3 w | sort -u >pairs && cat pairs &&
	while IFS=";" read -r p t; do
		[ "${p##*-}" = "${t##*-}" ] || exit 1
	done <pairs
'
for method in fork spawn forkserver; do
	test_expect_success "multiprocessing ($method) started after attach: burn() in the workers" '
		$PY "$WL/mp_pool.py" '$method' 0.5 1.5 & m=$!; bg_track $m
		sleep 0.2 && "$RAMPA" record -F 199 -p $m -o mp.'$method'.folded 2>err; cat err &&
		b=$(share mp.'$method'.folded ";burn \\([^)]*mp_pool.py:[0-9]+\\)") && echo "burn=$b" &&
		within "$b" 85 15 && c=$(coverage err) && echo "coverage=$c" && within "$c" 100 15
	'
done
test_expect_success 'an orphaned grandchild: coverage counts what was sampled, not 44619%' '
	"$RAMPA" record -F 999 -o orphan.folded -- sh -c "(\"$BUILD/spin\" 1 >/dev/null &); \"$BUILD/spin\" 1 >/dev/null" 2>err;
	cat err && c=$(coverage err) && echo "coverage=$c" && within "$c" 100 15
'
test_expect_success '-p: the target exits, its child runs on: the run follows the child to its end' '
	sh -c "\"$BUILD/spin\" 3 >/dev/null & sleep 1.5; exit 0" & t=$!
	sleep 0.2 && "$RAMPA" record -p $t -o tree.folded 2>err; cat err &&
	grep -q "the target exited; profiling 1 descendant still running" err &&
	grep -q "(the target and its descendants exited)" err &&
	secs=$(sed -n "s/.* for \([0-9.]*\) s (.*/\1/p" err) && echo "window $secs s" &&
	awk -v s="$secs" "BEGIN { exit !(s > 1.0) }" &&
	[ "$(grep -c "^spin;.*;hot;spin_until" tree.folded)" -ge 1 ]
'
test_expect_success '-- CMD: the command exits first, its orphan runs on: followed, then CMD status' '
	test_expect_code 3 "$RAMPA" record -o orph.folded -- sh -c "(\"$BUILD/spin\" 1.5 >/dev/null &); exit 3" 2>err &&
	cat err && grep -q "exited; profiling its 1 descendant still running" err &&
	grep -q "(the command and its descendants exited)" err &&
	grep -q "^spin;.*;hot;spin_until" orph.folded
'
# Threads that run a millisecond each and exit: the CPU time they used is
# what the process's rusage says (their exit hook saw only the time up to
# their last switch: 1.9 s of 2.7 s).
cat >"$TRASH/tchurn.py" <<'EOF'
import resource, threading, time
def work():
    x = 0
    for i in range(20000):
        x += i
end = time.time() + 2
while time.time() < end:
    ts = [threading.Thread(target=work) for _ in range(20)]
    [t.start() for t in ts]
    [t.join() for t in ts]
r = resource.getrusage(resource.RUSAGE_SELF)
print("%.3f" % (r.ru_utime + r.ru_stime))
EOF
test_expect_success 'thousands of short threads: the CPU time used is the process rusage' '
	"$RAMPA" record -o tchurn.folded -- /usr/bin/python3.11 tchurn.py >ru 2>err &&
	used=$(sed -n "s/.* of \([0-9.]*\) s used by the sampled processes.*/\1/p" err) &&
	echo "used $used s, rusage $(cat ru) s" &&
	within "$used" "$(cat ru)" "$(awk -v r="$(cat ru)" "BEGIN { print 0.1 * r }")"
'
test_expect_success '-d ends a run whose command left an orphan: the orphan is stopped too' '
	test_expect_code 3 "$RAMPA" record -d 1 -o orphd.folded -- sh -c "(exec \"$BUILD/spin\" 30 >/dev/null &); exit 3" 2>err &&
	cat err && grep -q "stopped 1 with SIGTERM" err && ! pgrep -f "$BUILD/spin 30" >/dev/null
'
test_done
