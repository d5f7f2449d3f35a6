#!/usr/bin/env bash
# Processes that come and go: what is kept of a process only to name its
# next samples (maps, interpreter, code objects' names, threads) is let go
# once it has exited and its last samples are named, so memory does not grow
# with each process; names already in the profile stay, so the frames of a
# process that exited long before the end are still named.
# tools/bench/churn.sh is the long version: minutes of -a with RSS sampled.
. "$(dirname "$0")/lib.sh"

require_bpf
PY=/usr/bin/python3.11
[ -x $PY ] || skip_all "needs $PY"

cat >"$TRASH/gone.py" <<'EOF'
import sys, time
def gone_before_the_end():
    t = time.process_time() + float(sys.argv[1])
    while time.process_time() < t:
        pass
gone_before_the_end()
EOF

rss_anon_kb() { awk '/^RssAnon:/ { print $2 }' /proc/$1/status; }
# churn N: N identical short Python processes, one after the other.
churn() { echo "i=0; while [ \$i -lt $1 ]; do $PY -c 'sum(range(300000))'; i=\$((i + 1)); done"; }

# A drain every second lets go of the processes that exited before it: RSS
# is read a little after each phase. Before, each process kept ~7 kB (its
# code objects' names above all); the profile itself grows a little with
# new distinct stacks.
test_expect_success 'after 100 identical short processes: memory flat, the first one still named' '
	{ "$RAMPA" record -o churn.folded -- sh -c "$PY gone.py 0.3; $(churn 25);
		sleep 1.2; touch warm; sleep 0.3; $(churn 100); sleep 1.2; touch end; sleep 0.3" 2>err &
	} && rec=$! && bg_track $rec &&
	wait_for test -e warm && first=$(rss_anon_kb $rec) &&
	until [ -e end ]; do sleep 0.1; kill -0 $rec || break; done &&
	last=$(rss_anon_kb $rec) && wait $rec && cat err &&
	echo "RssAnon $first kB after 25 processes, $last kB after 100 more" &&
	grep -Eq "^python3.11;.*gone_before_the_end \([^)]*gone\.py:[0-9]+\)" churn.folded &&
	grep -Eq "code objects .*; [0-9]+ let go at exit or exec, 0 held at the end" err &&
	exited=$(sed -n "s/.*(\([0-9]*\) of the processes exited).*/\1/p" err) && [ "$exited" -ge 126 ] &&
	awk -v d=$((last - first)) "BEGIN { printf \"%.2f kB per process\\n\", d / 100; exit !(d / 100 < 3) }"
'

cat >"$TRASH/gone_after.py" <<'EOF'
import os, sys, time
def gone_before_the_end():
    t = time.process_time() + float(sys.argv[1])
    while time.process_time() < t or not os.path.exists(sys.argv[2]):
        pass
gone_before_the_end()
EOF

# -a: the state of every process on the machine is let go at its exit, while
# its frames keep their names. The process ends only once rampa-bpf has read
# its interpreter (-v says so): under load its first event could otherwise be
# handled after it exited, and then no Python frame can be walked.
test_expect_success '-a: a process that exited before 30 others is still named' '
	{ "$RAMPA" record -v -a -d 120 -o all.folded 2>err & } && rec=$! && bg_track $rec &&
	wait_for grep -q "profiling all" err &&
	{ $PY gone_after.py 0.3 release & } && py=$! && bg_track $py &&
	wait_for grep -q "debug: PID $py: " err && touch release && wait $py &&
	eval "$(churn 30)" && sleep 1.2 &&
	kill -INT $rec && wait $rec && grep -v "debug:" err &&
	grep -Eq "^python3.11;.*gone_before_the_end \([^)]*gone_after\.py:[0-9]+\)" all.folded &&
	grep -Eq "code objects .*; [1-9][0-9]* let go at exit or exec" err &&
	! grep -q "children not followed" err
'

# -a: a short process whose first event is handled after it exited (rampa-bpf
# is stopped while it runs): named as the kernel knew it, not "pid N"; its
# maps are gone, so its native frames are unknown (counted), never guessed.
test_expect_success '-a: a process gone before its first event is read keeps its name' '
	{ "$RAMPA" record -a --per-process -d 120 -o stopped.folded 2>err2 & } && rec=$! &&
	bg_track $rec && wait_for grep -q "profiling all" err2 &&
	kill -STOP $rec && { $PY gone.py 0.3 & } && py=$! && wait $py && kill -CONT $rec &&
	sleep 1.2 && kill -INT $rec && wait $rec && cat err2 &&
	grep -E ";python3.11-$py;" stopped.folded | head -3 &&
	grep -Eq "^python3.11;python3.11-$py;\[unknown\]" stopped.folded &&
	! grep -E "(^|;)pid $py(;| )" stopped.folded &&
	! grep -E "python3.11-$py;.*gone_before_the_end" stopped.folded &&
	grep -Eq "frames in no known mapping +[1-9]" err2
'

# -- CMD in wall mode: the shell's command substitutions fork children that
# are gone before their fork events are read, while their off-CPU time is
# drained (the old build named them "pid N" in 2-8 of 24): named as the
# kernel knew them, the shell's name or the program each exec'd.
cat >"$TRASH/subs.sh" <<'EOF'
for i in 1 2 3 4 5 6 7 8; do
	x=$(echo a; exit 0)
	y=$(dirname /a/b/c)
	z=$(awk 'BEGIN { print 1 }')
done
exec sleep 0.3
EOF
test_expect_success '-- CMD: children gone before their fork events are read keep their names' '
	for i in 1 2 3; do
		"$RAMPA" record -q -m wall -o subs.folded -- bash subs.sh &&
		grep -v "^# " subs.folded | cut -d";" -f1 | sort | uniq -c &&
		! grep -Eq "^pid [0-9]+;" subs.folded || exit 1
	done
'

test_done
