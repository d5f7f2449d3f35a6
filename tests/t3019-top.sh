#!/usr/bin/env bash
# rampa-bpf top: per cycle split.py spins 30 ms in alpha() and 10 ms in
# beta(), both through spin(), so every refresh shows spin() heaviest by
# self and alpha above beta by total at 75/25; blocked.py's threads are
# blocked the whole run, so wall mode shows them in every interval. The
# screen is driven in tmux; the progress line of record must show on a
# terminal and never in a file.
. "$(dirname "$0")/lib.sh"
require_bpf
command -v tmux >/dev/null || { [ "${CI:-}" = true ] && skip_all "tmux missing"; }
command -v tmux >/dev/null && test_set_prereq TMUX
command -v script >/dev/null && test_set_prereq SCRIPT

WL=$(mktemp -d /tmp/rampa-t3019.XXXXXX)
cp "$TESTS_DIR/workloads/split.py" "$TESTS_DIR/workloads/blocked.py" "$TESTS_DIR/workloads/gil.py" "$WL/"
trap 'tmux kill-session -t rampa-t3019 2>/dev/null; rm -rf "$WL"; _cleanup' EXIT
F="$WL/split.py"
B="$WL/blocked.py"
PY=/usr/bin/python3.11
cd "$TRASH" || exit 1

# table N FILE: the rows of the Nth table of a --batch output.
table() {
	awk -v n="$1" '/^rampa-bpf top - / { t++; rows = 0; next }
		t == n && /FUNCTION$/ { rows = 1; next } t == n && rows && NF { print }
		t == n && rows && !NF { rows = 0 }' "$2"
}
# pct ROWS REGEX: the TOTAL% of the first row whose function matches REGEX.
pct() {
	awk -v re="$2" '{ line = $0; sub(/^ *[^%]*% *[^%]*% +/, "", line) }
		line ~ re { n = split($0, f, "%"); sub(/.* /, "", f[2]); print f[2]; exit }' "$1"
}

"$RAMPA" top --batch -n 3 -F 499 --sort total -r 40 -- $PY "$F" 10 >cpu.out 2>cpu.err
echo $? >cpu.rc
test_expect_success 'batch: three tables, each with its header, then a clean exit' '
	[ "$(cat cpu.rc)" -eq 0 ] && [ "$(grep -c "^rampa-bpf top - cpu mode: on-CPU samples" cpu.out)" -eq 3 ] &&
	[ "$(grep -c "^elapsed [0-9.]* s, [0-9]* samples, 1 process, 1 thread, [0-9]* lost" cpu.out)" -eq 3 ] &&
	[ "$(grep -c "^showing last [0-9.]* s ([0-9]* samples), thread all, sorted by total" cpu.out)" -eq 3 ]
'
test_expect_success 'batch: in every refresh alpha is above beta, at 75/25 of their sum' '
	for n in 1 2 3; do
		table $n cpu.out >t$n && a=$(pct t$n "^alpha \\($F\\)$") && b=$(pct t$n "^beta \\($F\\)$") &&
		echo "refresh $n: alpha=$a% beta=$b%" &&
		within "$(awk -v a="$a" -v b="$b" "BEGIN { print 100 * a / (a + b) }")" 75 6 &&
		[ "$(grep -n "alpha (" t$n | cut -d: -f1)" -lt "$(grep -n "beta (" t$n | cut -d: -f1)" ] ||
		exit 1
	done
'
test_expect_success 'batch: spin() is the heaviest by self, the process and thread are no function' '
	"$RAMPA" top --batch -n 2 -F 499 -- $PY "$F" 10 >self.out 2>self.err &&
	table 2 self.out >s2 && head -1 s2 | grep -q "  spin ($F)$" &&
	! grep -Eq "  (python3.11|MainThread-[0-9]+)$" s2
'
# selfsum N FILE: the SELF column of the Nth table summed, and the weight shown.
selfsum() {
	table "$1" "$2" | awk '{ s += $1 } END { print s + 0 }'
	sed -n "s/^showing last [0-9.]* s (\([0-9]*\) samples).*/\1/p" "$2" | sed -n "$1p"
}
test_expect_success 'batch: Python functions first, no weight lost; --native lists every frame' '
	grep -q "sorted by total, Python first$" cpu.out &&
	for n in 2 3; do
		table $n cpu.out | head -1 | grep -q " ($F)$" || exit 1
	done &&
	"$RAMPA" top --batch -n 2 -F 499 -r 100000 -- $PY "$F" 10 >py.out 2>py.err &&
	"$RAMPA" top --batch -n 2 -F 499 -r 100000 --native -- $PY "$F" 10 >nat.out 2>nat.err &&
	grep -q "sorted by self, native frames shown$" nat.out &&
	table 2 nat.out | grep -Eq "  Py_BytesMain$" &&
	! table 2 py.out | grep -Eq "  Py_BytesMain$" &&
	for f in py.out nat.out; do
		set -- $(selfsum 2 $f) && echo "$f: self summed $1, shown $2" &&
		[ "$2" -gt 0 ] && [ "$1" -eq "$2" ] || exit 1
	done
'
test_expect_success 'batch: the target exiting ends top, which says so, with the part before it' '
	"$RAMPA" top --batch -F 499 -- $PY "$F" 1.5 >exit.out 2>exit.err &&
	grep -q "rampa-bpf: top: command exited" exit.err &&
	[ "$(grep -c "^rampa-bpf top - " exit.out)" -ge 2 ] &&
	e1=$(sed -n "s/^elapsed \([0-9.]*\) s.*/\1/p" exit.out | tail -2 | head -1) &&
	e2=$(sed -n "s/^elapsed \([0-9.]*\) s.*/\1/p" exit.out | tail -1) &&
	echo "last refreshes at $e1 s and $e2 s" &&
	awk -v a="$e1" -v b="$e2" "BEGIN { exit !(b > a && b - a < 1.05) }"
'
# Two refreshes, then the half second left when -d ends the run (it was
# dropped).
test_expect_success 'batch: -d ends it, with the last part; --cumulative shows the totals since the start' '
	"$RAMPA" top --batch -c -d 2.5 -- $PY "$F" 10 >cum.out 2>cum.err &&
	[ "$(grep -c "^showing totals since the start" cum.out)" -eq 3 ] &&
	grep "^elapsed" cum.out && grep -q "^elapsed 2.5 s" cum.out &&
	n1=$(sed -n "s/^showing totals since the start (\([0-9]*\) samples.*/\1/p" cum.out | head -1) &&
	n2=$(sed -n "s/^showing totals since the start (\([0-9]*\) samples.*/\1/p" cum.out | tail -1) &&
	echo "samples $n1 then $n2" && [ "$n2" -gt "$n1" ]
'

$PY "$F" 30 --threads 2 >/dev/null 2>&1 &
split_pid=$!
bg_track $split_pid
test_expect_success 'threads: the table lists both, --tid shows only that thread' '
	wait_for sh -c "[ \$(ls /proc/$split_pid/task | wc -l) -ge 2 ]" &&
	tid=$(ls /proc/$split_pid/task | grep -vx $split_pid | head -1) && [ -n "$tid" ] &&
	"$RAMPA" top -q --batch -n 2 -F 499 --threads --tid "$tid" -p $split_pid >thr.out &&
	grep -Eq "^ +[0-9]+ +[0-9.]+% +$split_pid  MainThread-$split_pid \\(python3.11\\)$" thr.out &&
	grep -Eq "^ +[0-9]+ +[0-9.]+% +$tid  .*-$tid \\(python3.11\\)  <- shown$" thr.out &&
	shown=$(sed -n "s/^showing last [0-9.]* s (\([0-9]*\) samples), thread .*-$tid (python3.11).*/\1/p" thr.out | tail -1) &&
	w=$(sed -n "s/^ *\([0-9]*\) .* $tid  .*<- shown$/\1/p" thr.out | tail -1) &&
	echo "shown=$shown thread=$w" && [ -n "$shown" ] && [ "$shown" -eq "$w" ]
'

$PY "$B" 30 >/dev/null 2>&1 &
blocked_pid=$!
bg_track $blocked_pid
test_expect_success 'wall: threads blocked all along show in every interval, a third each' '
	sleep 0.5 &&
	"$RAMPA" top -q --batch -n 2 -m wall --sort total -r 60 -p $blocked_pid >wall.out &&
	grep -q "^rampa-bpf top - wall mode: wall-clock time.*; times in microseconds" wall.out &&
	for n in 1 2; do
		table $n wall.out >w$n && r=$(pct w$n "^wait_for_data \\($B\\)$") &&
		l=$(pct w$n "^wait_for_lock \\($B\\)$") && echo "refresh $n: recv=$r% lock=$l%" &&
		within "$r" 33.3 5 && within "$l" 33.3 5 || exit 1
	done
'

test_expect_success 'no terminal: top without --batch says to use it' '
	test_expect_code 2 "$RAMPA" top -p $$ </dev/null >out 2>err &&
	grep -q "top needs a terminal.*use --batch" err
'

# The screen in tmux: 120x40, keys sent as a user would.
screen() { tmux capture-pane -p -t rampa-t3019; }
test_expect_success TMUX 'screen: header, table, sort key, pause, q: exit 0 and the terminal back' '
	tmux new-session -d -s rampa-t3019 -x 120 -y 40 \
		"\"$RAMPA\" top -F 499 -- $PY \"$F\" 60; rc=\$?; stty -a >$TRASH/tmux.stty; echo \$rc >$TRASH/tmux.rc; sleep 60" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"spin ($F)\"" &&
	screen >s.start &&
	grep -q "^rampa-bpf top - cpu mode: on-CPU samples; counts in samples at 499 Hz" s.start &&
	grep -q "^elapsed [0-9.]* s, [0-9]* samples, 1 process, 1 thread" s.start &&
	grep -q "sorted by self" s.start && grep -Eq "SELF +SELF% +TOTAL +TOTAL% +FUNCTION" s.start &&
	grep -q "press ? for keys, q to quit" s.start &&
	tmux send-keys -t rampa-t3019 2 &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"sorted by total\"" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | sed -n 5p | grep -Eq \"^ +0 +0\\.00% +[0-9]+ +(99|100)\\.[0-9]+%  \"" &&
	screen >s.total && sed -n 5p s.total | grep -Eq "^ +0 +0\.00% +[0-9]+ +(99|100)\.[0-9]+%  " &&
	grep -Eq "^ +0 +0\.00% .*%  (<module>|main|recurse|run) \\(" s.total &&
	tmux send-keys -t rampa-t3019 N &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"native frames shown\"" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"  Py_BytesMain\$\"" &&
	tmux send-keys -t rampa-t3019 N &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"sorted by total, Python first\"" &&
	! screen | grep -q "  Py_BytesMain$" &&
	tmux send-keys -t rampa-t3019 " " &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"\\[paused\\]\"" &&
	screen >p1 && sleep 2.5 && screen >p2 && test_cmp p1 p2 &&
	tmux send-keys -t rampa-t3019 q &&
	wait_for test -s tmux.rc && [ "$(cat tmux.rc)" -eq 0 ] &&
	grep -Eq "(^| )icanon " tmux.stty && grep -Eq "(^| )echo " tmux.stty &&
	[ "$(tmux display -p -t rampa-t3019 "#{alternate_on}")" = 0 ] &&
	! screen | grep -q "FUNCTION"
'
test_expect_success TMUX 'screen: pick a thread, the threads table, all again; Ctrl-C quits' '
	tmux kill-session -t rampa-t3019 2>/dev/null; rm -f tmux.rc tmux.stty &&
	tmux new-session -d -s rampa-t3019 -x 120 -y 40 \
		"\"$RAMPA\" top -p $split_pid; rc=\$?; stty -a >$TRASH/tmux.stty; echo \$rc >$TRASH/tmux.rc; sleep 60" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q FUNCTION" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"^elapsed .* 2 threads\"" &&
	tmux send-keys -t rampa-t3019 "]" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"thread MainThread-$split_pid (python3.11)\"" &&
	tmux send-keys -t rampa-t3019 T &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \" $split_pid  MainThread-$split_pid (python3.11)  <- shown\"" &&
	screen | grep -q "THREAD (PROCESS)" &&
	tmux send-keys -t rampa-t3019 a T &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q \"thread all, sorted by self\"" &&
	screen | grep -q "FUNCTION" &&
	tmux send-keys -t rampa-t3019 C-c &&
	wait_for test -s tmux.rc && [ "$(cat tmux.rc)" -eq 0 ] &&
	grep -Eq "(^| )echo " tmux.stty && screen | grep -q "rampa-bpf: top: interrupted"
'
test_expect_success TMUX 'screen: a fatal signal still gives the terminal back' '
	tmux kill-session -t rampa-t3019 2>/dev/null; rm -f tmux.rc tmux.stty &&
	tmux new-session -d -s rampa-t3019 -x 120 -y 40 \
		"\"$RAMPA\" top -p $split_pid; rc=\$?; stty -a >$TRASH/tmux.stty; echo \$rc >$TRASH/tmux.rc; sleep 60" &&
	wait_for sh -c "tmux capture-pane -p -t rampa-t3019 | grep -q FUNCTION" &&
	top_pid=$(pgrep -P "$(tmux display -p -t rampa-t3019 "#{pane_pid}")" -x rampa-bpf) &&
	kill -QUIT "$top_pid" &&
	wait_for test -s tmux.rc && [ "$(cat tmux.rc)" -eq 131 ] &&
	grep -Eq "(^| )echo " tmux.stty && grep -Eq "(^| )icanon " tmux.stty &&
	[ "$(tmux display -p -t rampa-t3019 "#{alternate_on}")" = 0 ]
'

# The progress line: on a terminal (script gives record a pty), at most once
# a second, erased before anything else is written; never into a file.
test_expect_success SCRIPT 'progress: under a pty record shows its status line, then erases it' '
	script -q -e -c "\"$RAMPA\" record -o pty.folded -- $PY \"$F\" 3" ts >/dev/null 2>&1 &&
	grep -aEq "rampa-bpf: [0-9]+ s, [0-9]+ samples, 1 process, 1 thread, [0-9]+ lost; Ctrl-C stops" ts &&
	python3 - ts <<-\EOF
	import re, sys
	data = open(sys.argv[1], "rb").read()
	lines = list(re.finditer(rb"rampa-bpf: \d+ s, \d+ samples[^\r\n]*Ctrl-C stops", data))
	assert lines, "no progress line"
	for m in lines:  # each is erased (carriage return) before anything follows
	    assert data[m.end():m.end() + 1] == b"\r", data[m.start():m.end() + 20]
	assert b"rampa-bpf: profiled" in data
	EOF
'
test_expect_success SCRIPT 'progress: gil-wait shows the time waited for the GIL so far' '
	script -q -e -c "\"$RAMPA\" gil-wait -o g.folded -- $PY \"$WL/gil.py\" workers 2 2.5" tg >/dev/null 2>&1 &&
	grep -aEq "rampa-bpf: [0-9]+ s, [0-9.]+ [mu]?s waiting for the GIL in 1 process, [0-9]+ lost; Ctrl-C stops" tg
'
test_expect_success SCRIPT 'progress: none with -q, none when stderr is a file' '
	script -q -e -c "\"$RAMPA\" record -q -o q.folded -- $PY \"$F\" 2" tq >/dev/null 2>&1 &&
	! grep -aq "samples, 1 process" tq &&
	"$RAMPA" record -o f.folded -- $PY "$F" 2 2>file.err &&
	! grep -q "Ctrl-C stops$" file.err && ! grep -q "$(printf "\r")" file.err &&
	grep -q "rampa-bpf: profiled" file.err
'
test_done
