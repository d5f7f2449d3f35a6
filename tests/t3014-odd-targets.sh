#!/usr/bin/env bash
# Odd but legal targets: a process name is data, never structure (a newline,
# ')' or invalid UTF-8 in it), and a process whose main thread has exited
# lives while its other threads run.
. "$(dirname "$0")/lib.sh"

require_bpf
[ -x "$BUILD/oddproc" ] || skip_all "workloads not built (run tests/run.sh)"

test_expect_success 'a name with a newline, ) and \xff is not taken for an exit' '
	{ "$BUILD/oddproc" "$(printf "a\nb) R \xff")" 6 & } && pid=$! && bg_track $pid &&
	"$RAMPA" record -p $pid -d 2 -o nl.folded 2>err &&
	! grep -q "target exited" err && [ "$(total nl.folded)" -ge 30 ] &&
	grep -q "^a b) R $(printf "\xef\xbf\xbd");" nl.folded &&
	"$RAMPA" report nl.folded --top 3 >top && kill $pid
'
test_expect_success 'the name is one line on stderr: its newline is replaced' '
	[ "$(grep -c "^rampa-bpf: profiling PID" err)" = 1 ] && grep -q "(a?b) R " err
'
test_expect_success 'the process name reaches every format as valid UTF-8' '
	"$RAMPA" report nl.folded -o nl.json && python3 -c "import json,sys; json.load(open(sys.argv[1], encoding=\"utf-8\"))" nl.json &&
	"$RAMPA" report nl.folded -o nl.svg && iconv -f UTF-8 -t UTF-8 nl.svg >/dev/null
'
test_expect_success 'a process whose main thread exited is profiled while it runs' '
	{ "$BUILD/oddproc" leaderless 6 main-exits & } && pid=$! && bg_track $pid &&
	sleep 0.3 && grep -q "^State:.*Z" /proc/$pid/status &&
	"$RAMPA" record -p $pid -d 2 -o lead.folded 2>err &&
	! grep -q "target exited" err && [ "$(total lead.folded)" -ge 30 ] &&
	grep -q "odd_spin" lead.folded
'
test_expect_success 'and its end is still seen' '
	{ "$BUILD/oddproc" leaderless 1 main-exits & } && pid=$! && bg_track $pid &&
	timeout 20 "$RAMPA" record -p $pid -o end.folded 2>err &&
	grep -q "the target exited" err
'
test_expect_success 'gil-wait: a thread named with a newline is one row of the table' '
	"$RAMPA" gil-wait -q -o g.folded -- /usr/bin/python3.11 -c "
import ctypes, threading, time
def w():
    ctypes.CDLL(None).prctl(15, b\"ev\\n  4242 fak\", 0, 0, 0)
    end = time.time() + 0.5
    while time.time() < end: pass
t = threading.Thread(target=w); t.start()
end = time.time() + 0.5
while time.time() < end: pass
t.join()" >table 2>err &&
	cat table && grep -Eq " ev(\?|$(printf "\357\277\275"))  4242 fak " table && ! grep -q "^  4242 fak" table
'
test_done
