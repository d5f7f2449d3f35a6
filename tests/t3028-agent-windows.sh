#!/usr/bin/env bash
# rampa-bpf agent: a window's from and until are the time its samples cover,
# however late the agent's loop comes to cut it. The loop is stalled on
# purpose (SIGSTOP, as a long drain or a /proc walk under churn would)
# while short Python processes come and go. epochs.py runs, in each tenth
# of a second N of the wall clock, a function named e_N, entered at N/10 at
# the earliest: a window that holds a sample of e_N with N/10 at or past its
# until holds time after its until; one that holds e_N with (N + 1)/10 well
# before its from holds time before its from (a thread preempted between
# its clock read and the sample is allowed for, a few samples).
. "$(dirname "$0")/lib.sh"

require_bpf
cd "$TRASH" || exit 1
PY=/usr/bin/python3.11
[ -x $PY ] || skip_all "needs Debian's python3.11"

cat >epochs.py <<\EOF
import sys, time
end = time.time() + float(sys.argv[1])
cur = None
while True:
    now = time.time()
    if now >= end:
        break
    n = int(now * 10)
    if n != cur:
        cur = n
        exec(compile("def e_%d(t):\n    while time.time() < t:\n        pass\n" % n,
                     "epochs.py", "exec"))
        f = locals()["e_%d" % n]
    f((n + 1) / 10)
EOF
cat >churn.py <<\EOF
sum(range(200000))
EOF

$PY "$TRASH/epochs.py" 60 >/dev/null 2>&1 &
bg_track $!
sh -c "while :; do $PY \"$TRASH/churn.py\"; done" >/dev/null 2>&1 &
bg_track $!

test_expect_success 'windows under churn and a stalled loop: back to back, each as long as -i, each holding only its own time' '
	"$RAMPA" agent -q -F 99 -i 1 --store st --match "$TRASH/(epochs|churn)\\.py" 2>log &
	agent=$!
	wait_for test -s st/status || exit 1
	sleep 3 &&
	# The loop stalled across several cuts: nothing is cut meanwhile.
	kill -STOP $agent && sleep 3.5 && kill -CONT $agent &&
	sleep 4 && kill -TERM $agent && wait $agent &&
	cat log && { grep "^counted after" st/status || true; } &&
	ls st/windows/epochs/cpu >list && cat list &&
	[ $(wc -l <list) -ge 9 ] &&
	(cd st/windows/epochs/cpu && $PY - * <<-\EOF
	import calendar, re, sys, time
	def t(s):
	    return calendar.timegm(time.strptime(s[:15], "%Y%m%dT%H%M%S")) + int(s[16:19]) / 1000
	ws = sorted((t(f[:20]), t(f[21:41]), f) for f in sys.argv[1:])
	bad = 0
	for i, (a, b, f) in enumerate(ws):
	    if i and ws[i - 1][2][21:41] != f[:20]:
	        print("not back to back:", ws[i - 1][2], f); bad += 1
	    if b - a > 1.002 or (i < len(ws) - 1 and b - a < 0.998):
	        print("not 1 s long:", f, round(b - a, 3)); bad += 1
	    late = early = total = 0
	    for line in open(f):
	        if line.startswith("#"):
	            continue
	        stack, n = line.rsplit(" ", 1)
	        total += int(n)
	        for e in re.findall(r"\be_(\d+) ", stack):
	            if int(e) / 10 >= b + 0.002:
	                late += int(n)
	            if (int(e) + 1) / 10 < a - 0.05:
	                early += int(n)
	    print(f, total, "samples;", late, "after its until;", early, "before its from")
	    if late or early > max(2, total // 50):
	        bad += 1
	sys.exit(bad > 0)
	EOF
	)
'
test_done
