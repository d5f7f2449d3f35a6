#!/usr/bin/env bash
# On-CPU capture of a C workload whose split is known by construction:
# hot() spins 75 ms and warm() 25 ms of every 100 ms, both in spin_until().
. "$(dirname "$0")/lib.sh"
require_bpf

CHAIN='spin;_start;__libc_start_main;__libc_start_call_main;main;run_cycles'

test_expect_success 'record -- CMD: hot 75% and warm 25% under their callers' '
	"$RAMPA" record -F 999 -o cmd.folded -- "$BUILD/spin" 3 2>err &&
	hot=$(share cmd.folded "^$CHAIN;hot;spin_until") &&
	warm=$(share cmd.folded "^$CHAIN;warm;spin_until") &&
	echo "hot=$hot warm=$warm" && within "$hot" 75 4 && within "$warm" 25 4
'
test_expect_success 'the sample count matches the rate and the CPU time used' '
	n=$(total cmd.folded) && echo "samples=$n" && [ "$n" -ge 2600 ] && [ "$n" -le 3100 ] &&
	pct=$(sed -n "s/.*CPU time .*(\([0-9.]*\)%)$/\1/p" err) && within "$pct" 100 5
'
test_expect_success 'the summary states the mode, unit, threads and losses' '
	grep -q "mode          cpu: on-CPU samples at 999 Hz per CPU; counts are samples" err &&
	grep -q "threads       1 in 1 process (1 of the processes exited)$" err && grep -q "^  losses" err &&
	grep -q "wrote cmd.folded" err && grep -q "view it:" err
'
# libc has no frame pointers: a sample in its start-up code may lose its caller.
test_expect_success 'every line is a well-formed collapsed stack, <1% unresolved' '
	head -1 cmd.folded | grep -q "^# rampa-bpf: target .*, mode cpu, unit samples, duration [0-9.]* s, rate 999 Hz, slice 1 s, window command, groups none$" &&
	! tail -n +2 cmd.folded | grep -Ev "^[^ ]+( [^ ;]+)*;?[^;]* [0-9]+$" |
		grep -Ev "^# slices \[[0-9]+=[0-9]+( [0-9]+=[0-9]+)*\]$" &&
	within "$(share cmd.folded "\\[unknown\\]")" 0 1
'

"$BUILD/spin" 30 2 >/dev/null 2>&1 &
target=$!
bg_track $target
sleep 0.3
test_expect_success 'record -p PID: both threads sampled, split holds, duration honoured' '
	start=$(date +%s.%N) &&
	"$RAMPA" record -p $target -d 2 -o pid.folded 2>err &&
	end=$(date +%s.%N) && awk -v s=$start -v e=$end "BEGIN { exit !(e - s < 3.5) }" &&
	grep -q "threads       2 in 1 process" err &&
	within "$(share pid.folded ";hot;spin_until")" 75 5 &&
	pct=$(sed -n "s/.*CPU time .*(\([0-9.]*\)%)$/\1/p" err) && within "$pct" 100 8
'
test_expect_success 'record -p TID profiles the process the thread belongs to' '
	tid=$(ls /proc/$target/task | grep -v "^$target$" | head -1) &&
	"$RAMPA" record -p $tid -d 1 -o tid.folded 2>err &&
	grep -q "is a thread of process $target" err && grep -q "threads       2 in 1 process" err
'
test_expect_success 'default output name is rampa-PID.folded' '
	"$RAMPA" record -q -p $target -d 0.5 && [ -s rampa-$target.folded ]
'
test_expect_success 'two PIDs: both processes sampled, other processes left out' '
	"$BUILD/symfix-pie" >/dev/null 2>&1 </dev/null & other=$!; bg_track $other
	"$BUILD/spin" 5 >/dev/null 2>&1 </dev/null & second=$!; bg_track $second
	sleep 0.2 && "$RAMPA" record -p $target,$second -d 1 -o two.folded 2>err &&
	grep -q "threads       3 in 2 processes" err &&
	[ "$(grep -v "^# " two.folded | cut -d";" -f1 | sort -u | wc -l)" -eq 1 ] &&
	! grep -q "^symfix" two.folded
'
kill $target

test_expect_success 'record -a: every process, the known split among them' '
	"$BUILD/spin" 5 >/dev/null 2>&1 </dev/null & s=$!; bg_track $s
	sleep 0.2; "$RAMPA" record -a -F 499 -d 1 -o all.folded 2>err; kill $s
	grep -q "profiled all processes" err && grep -q "^spin;.*;run_cycles;hot;spin_until" all.folded &&
	grep "^spin;" all.folded >spin.only && within "$(share spin.only ";hot;spin_until")" 75 8
'
# -a reads the interpreters already running before the first sample: at
# their first sample instead, a loaded machine (here rampa-bpf stopped for
# 1.5 s once sampling starts) left seconds of their samples without Python
# frames, while the summary claimed whole Python stacks.
test_expect_success 'record -a: a Python process already running has its Python frames throughout' '
	/usr/bin/python3.11 -c "
def busy_here():
    while True:
        pass
busy_here()" >/dev/null 2>&1 </dev/null & p=$! && bg_track $p && sleep 0.3 &&
	{ "$RAMPA" record -a --per-process -F 499 -d 3 -o pyall.folded 2>err & } && r=$! &&
	for i in $(seq 100); do grep -q "^rampa-bpf: profiling" err 2>/dev/null && break; sleep 0.1; done &&
	kill -STOP $r && sleep 1.5 && kill -CONT $r && wait $r; kill $p; cat err &&
	grep "^python3.11;python3.11-$p;" pyall.folded >mine && n=$(total mine) && echo "samples=$n" &&
	[ "$n" -ge 50 ] && within "$(share mine ";busy_here \\(<string>:[34]\\)")" 100 3
'
# The same in wall mode for time off-CPU: a Python process started while
# rampa-bpf is stopped naps unseen as Python; that time is said, not only
# its samples.
test_expect_success 'wall -a: a Python process found late: its off-CPU time before is stated' '
	{ "$RAMPA" record -a -m wall -d 3 -o late.folded 2>err2 & } && r=$! &&
	for i in $(seq 100); do grep -q "^rampa-bpf: profiling" err2 2>/dev/null && break; sleep 0.1; done &&
	kill -STOP $r && { /usr/bin/python3.11 -c "
import time
end = time.time() + 4
while time.time() < end:
    time.sleep(0.01)" >/dev/null 2>&1 </dev/null & } && p=$! && bg_track $p &&
	sleep 1.5 && kill -CONT $r && wait $r; kill $p; cat err2 &&
	s=$(sed -n "s/.*before its interpreter was found: no Python frames.*(and \([0-9.]*\) s off-CPU or waiting)/\1/p" err2) &&
	echo "before found: $s s" && awk -v s="$s" "BEGIN { exit !(s >= 0.5) }"
'
# A build host under -a: hundreds of execs a second. Each exec once made
# the engine re-read every thread name; the event loop never returned, so
# -d, -n and signals were never seen (top -a hung until SIGKILL).
test_expect_success 'record -a (cpu; wall with gecko markers) and top -a end on time during an exec flood' '
	{ sh -c "while :; do /bin/true; done" & } && f=$! && bg_track $f &&
	test_when_finished "kill $f" &&
	timeout -s KILL 60 "$RAMPA" record -a -F 499 -d 1 -o flood.folded 2>err &&
	secs=$(sed -n "s/.*profiled all processes for \([0-9.]*\) s.*/\1/p" err) &&
	awk -v s="$secs" "BEGIN { exit !(s >= 1 && s < 4) }" &&
	grep -Eq "^(sh|true);" flood.folded &&
	timeout -s KILL 60 "$RAMPA" record -a -m wall -d 1 -o flood.gecko.json 2>err &&
	secs=$(sed -n "s/.*profiled all processes for \([0-9.]*\) s.*/\1/p" err) &&
	awk -v s="$secs" "BEGIN { exit !(s >= 1 && s < 4) }" &&
	timeout -s KILL 60 "$RAMPA" top -a --batch -n 2 -r 1 -F 499 >top.out 2>err &&
	[ "$(grep -c "^rampa-bpf top - " top.out)" -eq 2 ]
'
test_expect_success 'kernel frames appear, marked _[k], for a syscall-heavy command' '
	"$RAMPA" record -F 999 -o kern.folded -- dd if=/dev/zero of=/dev/null bs=64k count=400000 2>err &&
	within "$(share kern.folded "_\\[k\\]")" 80 20 &&
	grep -Eq ";(entry_SYSCALL_64|do_syscall_64)[^;]*_\[k\]" kern.folded
'
test_expect_success 'children of CMD are followed' '
	"$RAMPA" record -F 499 -o child.folded -- sh -c "\"$BUILD/spin\" 1; true" 2>err &&
	within "$(share child.folded "^spin;.*;run_cycles;hot;")" 75 6
'
test_expect_success 'record writes the format its output name asks for, titled with the mode' '
	"$RAMPA" record -q -F 499 -o out.svg -- "$BUILD/spin" 0.5 &&
	grep -q "<svg" out.svg && grep -q "data-unit=\"samples\"" out.svg &&
	"$RAMPA" record -q -F 499 -o out.pb.gz -- "$BUILD/spin" 0.5 &&
	[ "$(head -c 2 out.pb.gz | od -An -tx1 | tr -d " ")" = 1f8b ] &&
	"$RAMPA" record -q -F 499 --format speedscope -o out.json -- "$BUILD/spin" 0.5 &&
	grep -q "speedscope" out.json
'
test_done
