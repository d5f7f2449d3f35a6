#!/usr/bin/env bash
# Wall and off-CPU time exact for every thread, however many sleep at attach:
# with N threads asleep in Event.wait and 2 busy, each idle thread accounts
# the whole window (within 1%), none is missing, and the window is -d; with 200 threads
# switching every half second, none loses a nap.
. "$(dirname "$0")/lib.sh"
require_bpf

W="$TESTS_DIR/workloads/many_threads.py"

# per_thread FOLDED: "threads min max" of the idle threads' totals (us), and
# the window from the header (us).
per_thread() {
	python3 - "$1" <<'PY'
import collections, re, sys
t = collections.Counter()
window = None
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("# rampa-bpf:"):
        window = float(re.search(r"duration ([0-9.]+) s", line).group(1)) * 1e6
        continue
    if line.startswith("#"):
        continue
    stack, n = line.rsplit(" ", 1)
    frames = stack.split(";")
    if frames[1].startswith(("idle-", "nap-")):
        t[frames[1]] += int(n)
v = sorted(t.values())
print(len(t), v[0], v[-1], int(window))
PY
}

for n in 300 1000; do
	/usr/bin/python3.11 "$W" "$n" 60 >"$TRASH/ready.$n" 2>&1 </dev/null &
	pid=$!
	bg_track $pid
	wait_for grep -q ready "$TRASH/ready.$n"
	for mode in wall offcpu; do
		"$RAMPA" record --mode $mode -T -p $pid -d 2 -o "$TRASH/$mode.$n.folded" \
			2>"$TRASH/$mode.$n.err"
		test_expect_success "$mode, $n threads under -p: every idle thread accounts the whole window" '
			read -r k lo hi win < <(per_thread '"$mode.$n.folded"') &&
			echo "idle threads=$k min=$lo max=$hi window=$win" &&
			[ "$k" -eq $(('"$n"' - 2)) ] &&
			awk -v lo="$lo" -v hi="$hi" -v w="$win" "BEGIN { exit !(lo >= 0.99 * w && hi <= 1.01 * w) }" &&
			! grep -q "not accounted" '"$mode.$n.err"'
		'
		# The sleepers are taken before the window opens, and BPF stops
		# counting at the deadline: the window is -d, however long the
		# setup or a drain took (it was 2 s plus the snapshot of every
		# sleeping thread).
		test_expect_success "$mode, $n threads under -p: the window is what -d says" '
			read -r k lo hi win < <(per_thread '"$mode.$n.folded"') &&
			echo "window=$win us" && [ "$win" -eq 2000000 ] &&
			grep -q "^rampa-bpf: profiled .* for 2.00 s" '"$mode.$n.err"'
		'
	done
	kill $pid
done
# The kernel does not report every switch (on 6.18, switches away from some
# threads of other processes reach no sched_switch probe): a thread back on
# a CPU unseen must not lose the nap it comes back from. Five runs, since a
# missed report comes at random.
/usr/bin/python3.11 "$TESTS_DIR/workloads/sleep_loops.py" 200 >"$TRASH/ready.naps" 2>&1 </dev/null &
pid=$!
bg_track $pid
wait_for grep -q ready "$TRASH/ready.naps"
test_expect_success 'wall, 200 threads napping 0.5 s in a loop: every nap thread accounts the window, 5 runs' '
	for i in 1 2 3 4 5; do
		"$RAMPA" record -q --mode wall -T -p '$pid' -d 2 -o naps.$i.folded &&
		read -r k lo hi win < <(per_thread naps.$i.folded) &&
		echo "run $i: nap threads=$k min=$lo max=$hi window=$win" &&
		[ "$k" -eq 200 ] &&
		awk -v lo="$lo" -v hi="$hi" -v w="$win" "BEGIN { exit !(lo >= 0.98 * w && hi <= 1.02 * w) }" ||
		return 1
	done
'
kill $pid

# Threads asleep at attach that exit mid-window: each accounts the time it
# lived in the window, no more (a switch back in on its way out was taken
# for a sleeper's return and gained the window's time up to then: 4.2-4.6 s
# each in a 3 s window before).
cat >"$TRASH/exiting.py" <<'EOF'
import threading, time
def nap():
    end = time.time() + 2.0
    while time.time() < end:
        time.sleep(0.002)
ts = [threading.Thread(target=nap, name="nap-%d" % i) for i in range(3)]
[t.start() for t in ts]
print("ready", flush=True)
[t.join() for t in ts]
time.sleep(30)
EOF
for mode in wall offcpu; do
	/usr/bin/python3.11 "$TRASH/exiting.py" >"$TRASH/ready.exit.$mode" 2>&1 </dev/null &
	pid=$!
	bg_track $pid
	wait_for grep -q ready "$TRASH/ready.exit.$mode"
	test_expect_success "$mode: threads asleep at attach that exit mid-window account their lifetime only" '
		"$RAMPA" record -q --mode '$mode' -T -p '$pid' -d 3 -o exit.'$mode'.folded &&
		read -r k lo hi win < <(per_thread exit.'$mode'.folded) &&
		echo "nap threads=$k min=$lo max=$hi window=$win" &&
		[ "$k" -eq 3 ] && awk -v hi="$hi" "BEGIN { exit !(hi <= 2050000) }"
	'
	kill $pid
done
test_done
