#!/usr/bin/env bash
# rampa-bpf agent --modes with several modes: one agent, a capture session
# per mode, a window per service and mode at each cut, pushed as
# SERVICE.MODE to a loopback ingest receiver (ingest-receiver.py) and kept
# under SERVICE/MODE/ in the store; each body decoded by go tool pprof with
# its mode's sample type and unit. gil.py's 3 workers wait for the GIL
# about 2/3 of their time, by construction.
. "$(dirname "$0")/lib.sh"

require_bpf
command -v go >/dev/null || skip_all "needs go tool pprof (tools/install-deps.sh --test)"
export HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local
pprof() { go tool pprof "$@" 2>&1; }
cd "$TRASH" || exit 1

# A copy of its own, which --match selects (not other tests' workloads).
cp "$TESTS_DIR/workloads/gil.py" modesgil.py || exit 1
/usr/bin/python3.11 "$TRASH/modesgil.py" workers 3 600 >/dev/null &
GIL=$!
bg_track $GIL
mkdir -p recv || exit 1
python3 "$TESTS_DIR/ingest-receiver.py" "$TRASH/recv" >recv.out 2>&1 &
bg_track $!
wait_for test -s recv/port || { echo "receiver did not start"; exit 1; }

test_expect_success 'bad --modes: an unknown mode, a mode twice' '
	test_expect_code 2 "$RAMPA" agent --modes cpu,nope --store x 2>err &&
	grep -q "unknown mode .nope." err &&
	test_expect_code 2 "$RAMPA" agent --modes cpu,cpu --store x 2>err && grep -q "twice" err
'

# The time modes (wall, offcpu) are left out here: on a machine shared with
# other test suites their sessions follow every context switch and exec of
# the machine (see docs/PERFORMANCE.md).
test_expect_success 'cpu,gil-wait: a window of each mode per cut, pushed as SERVICE.MODE' '
	"$RAMPA" agent -F 99 -i 2 --modes cpu,gil-wait --store st \
		--server "http://127.0.0.1:$(cat recv/port)" --match "$TRASH/modesgil\\.py" >log 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(ls recv | grep -c json) -ge 8 ]" || true
	kill -TERM $pid && wait $pid && tail -3 log &&
	python3 - recv >got <<-\EOF &&
	import json, os, sys
	d = sys.argv[1]
	for f in sorted(x for x in os.listdir(d) if x.endswith(".json")):
	    q = json.load(open(os.path.join(d, f)))["query"]
	    print(f[:-5], q["name"].split("{")[0], q["units"], q["from"], q["until"])
	EOF
	cat got &&
	[ $(grep -c " modesgil.cpu samples " got) -ge 2 ] &&
	[ $(grep -c " modesgil.gil-wait microseconds " got) -ge 2 ] &&
	! grep -vE " modesgil\.(cpu samples|gil-wait microseconds) " got &&
	[ $(find st/windows/modesgil/cpu -name "*.folded" | wc -l) -ge 2 ] &&
	[ $(find st/windows/modesgil/gil-wait -name "*.folded" | wc -l) -ge 2 ] &&
	grep -q "^mode: cpu,gil-wait" st/status
'

# The modes' sessions start one after the other and stop one after the
# other: the first and last windows of each are its own; every cut between
# is on one grid (the first session's timeline).
test_expect_success 'each mode cut at the same instants' '
	awk "\$2 ~ /cpu/ { print \$5 }" got | sort >cpu.w &&
	awk "\$2 ~ /gil-wait/ { print \$5 }" got | sort | sed \$d >gil.w &&
	[ -s gil.w ] && comm -13 cpu.w gil.w >off && test_cmp /dev/null off
'

test_expect_success 'go tool pprof: sample type and unit of each mode; the GIL waits' '
	for n in $(awk "{ print \$1 }" got); do
		pprof -raw recv/$n.pb.gz >raw || { cat raw; exit 1; }
		case $(awk "\$1 == \"$n\" { print \$2 }" got) in
		*.cpu) grep -q "^Samples:" raw && grep -A1 "^Samples:" raw | grep -q "samples/count" ;;
		*) grep -A1 "^Samples:" raw | grep -q "gil-wait/microseconds" ;;
		esac || { echo "window $n:"; head -5 raw; exit 1; }
	done &&
	# Windows past the first, whole: 3 workers waiting about 2/3 of the
	# time is about 2 s of waits per second of window.
	"$RAMPA" report -q st --service modesgil --mode gil-wait --from -10m -o gil.folded &&
	head -1 gil.folded && grep -q "unit microseconds" gil.folded &&
	grep -q "worker (.*modesgil.py" gil.folded
'
# SIGTERM must be seen while the machine churns: a wall session follows
# every context switch and exec of the machine, and once handled none of
# its events before the flag. A bound (60 s), not a measure of speed.
test_expect_success 'cpu,wall beside churn: SIGTERM writes the open windows and exits 0' '
	sh -c "while :; do /bin/true; done" &
	loop=$! && bg_track $loop
	/usr/bin/python3.11 -c "
import os
while True:
    p = os.fork()
    if p == 0:
        os._exit(0)
    os.waitpid(p, 0)" &
	forker=$! && bg_track $forker
	"$RAMPA" agent -q -i 2 --modes cpu,wall --store wt --match "$TRASH/modesgil\\.py" \
		>wlog 2>&1 &
	pid=$! &&
	for i in $(seq 300); do
		[ "$(sed -n "s/^windows cut: //p" wt/status 2>/dev/null)" -ge 4 ] 2>/dev/null && break
		sleep 0.2
	done &&
	kill -TERM $pid && cut=$(sed -n "s/^windows cut: //p" wt/status) && echo "cut: $cut" &&
	for i in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done &&
	! kill -0 $pid 2>/dev/null && wait $pid && cat wlog && grep -q "^state: stopped" wt/status &&
	# The window open at SIGTERM was cut and written too.
	[ "$(sed -n "s/^windows cut: //p" wt/status)" -gt "$cut" ] &&
	[ $(find wt/windows/modesgil/wall -name "*.folded" | wc -l) -ge 2 ] &&
	# What was left out: samples at most 19 a second on 2 CPUs for the
	# run (the wall windows counted their microseconds as samples).
	grep "^samples left out" wt/status &&
	left=$(sed -n "s/^samples left out.*: \([0-9]*\) on-CPU samples.*/\1/p" wt/status) &&
	[ "$left" -le 5000 ] &&
	kill $loop $forker
'
test_done
