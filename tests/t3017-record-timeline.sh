#!/usr/bin/env bash
# The timeline of a live run: phases.py spins in f() for 2 s of CPU time, then
# in g() for 2 s. The profile's first two seconds hold f alone, the part after
# the switch g alone; the gecko output puts f's samples before g's; a sleep
# still open at the end is split over the slices it covers. naps.py sleeps
# twice 0.6 s in nap(): the gecko output of wall mode has two off-CPU
# markers in nap(), each as long as the sleep; gil.py's two workers wait for
# the GIL: gil-wait's gecko output has GIL markers for both; gil.py sleep0's
# thousands of short waits are in merged markers that hold their time.
. "$(dirname "$0")/lib.sh"
require_bpf
PY=/usr/bin/python3.11
[ -x $PY ] || skip_all "needs $PY"
command -v node >/dev/null && [ -d "$TESTS_DIR/browser/node_modules/speedscope" ] &&
	test_set_prereq SPEEDSCOPE
W="$TESTS_DIR/workloads/phases.py"
fshare() { share "$1" ";f \\("; }
gshare() { share "$1" ";g \\("; }

test_expect_success 'record: a timeline of 1 s slices, stated in the summary' '
	"$RAMPA" record -o ph.folded -- $PY "$W" 2 2>err && cat err &&
	grep -Eq "^  timeline      [0-9]+ slices of 1 s, [0-9]+ \(stack, slice\) cells" err &&
	head -1 ph.folded | grep -q ", slice 1 s, window command, groups none$" &&
	grep -q "^# slices \[" ph.folded &&
	sed -n "s/^switch //p" err >switch && [ -s switch ]
'
test_expect_success 'report --from 0 --to 2: f alone' '
	"$RAMPA" report ph.folded --from 0 --to 2 -o early.folded 2>err && cat err &&
	grep -q "kept 0 s to 2 s" err && n=$(total early.folded) && echo "samples=$n" &&
	[ "$n" -ge 20 ] && f=$(fshare early.folded) && g=$(gshare early.folded) &&
	echo "f=$f g=$g" && within "$g" 0 2 && awk -v f="$f" "BEGIN { exit !(f >= 90) }"
'
# The switch comes at 2 s of CPU time: later in wall time on a busy machine.
# From the first slice at least 0.5 s after it (Python starts in less).
test_expect_success 'report --from after the switch: g alone' '
	from=$(awk "{ x = \$1 + 0.5; printf \"%d\", (x == int(x)) ? x : int(x) + 1 }" switch) &&
	echo "switch $(cat switch), from $from" &&
	"$RAMPA" report -q ph.folded --from "$from" -o late.folded && n=$(total late.folded) &&
	f=$(fshare late.folded) && g=$(gshare late.folded) && echo "samples=$n f=$f g=$g" &&
	[ "$n" -ge 20 ] && within "$f" 0 2 && awk -v g="$g" "BEGIN { exit !(g >= 90) }"
'
test_expect_success 'the whole profile is the sum of its windows' '
	"$RAMPA" report -q ph.folded --to 2 -o a.folded &&
	"$RAMPA" report -q ph.folded --from 2 -o b.folded &&
	[ $(( $(total a.folded) + $(total b.folded) )) -eq "$(total ph.folded)" ]
'
test_expect_success SPEEDSCOPE 'record -o x.gecko.json: f before g in time order' '
	"$RAMPA" record -q -o ph.gecko.json -- $PY "$W" 1 2>err &&
	node "$TESTS_DIR/browser/gecko-check.cjs" ph.gecko.json >out && cat out &&
	grep -q "^thread GeckoMain process=python3.11 " out &&
	f=$(sed -n "s/^frame f time=[0-9]* first=\([0-9]*\) half=\([0-9]*\) last=.*/\1 \2/p" out) &&
	g=$(sed -n "s/^frame g time=[0-9]* first=\([0-9]*\) half=\([0-9]*\) last=.*/\1 \2/p" out) &&
	echo "f: $f g: $g" && set -- $f $g && [ "$1" -lt "$3" ] && [ "$2" -lt "$4" ] &&
	[ $(( $4 - $2 )) -ge 500 ]
'
# Samples are stamped with their slice in the kernel: a drain that comes
# late (a loaded machine; here rampa-bpf stopped for 1.5 s) must not pile
# them into one slice. One thread at 99 Hz gives at most 25 in 250 ms.
test_expect_success 'a late drain leaves samples in the slices they were taken in' '
	"$RAMPA" record -q -F 99 --slice 250ms -o late.folded -- $PY "$W" 1.5 2>/dev/null &
	rp=$! && sleep 0.7 && kill -STOP $rp && sleep 1.5 && kill -CONT $rp && wait $rp &&
	awk "/^# slices/ { gsub(/[][]/, \"\"); for (i = 3; i <= NF; i++) { split(\$i, a, \"=\"); c[a[1]] += a[2] } }
		END { for (k in c) print k, c[k] }" late.folded | sort -n >per-slice && cat per-slice &&
	[ "$(wc -l <per-slice)" -ge 8 ] && awk "\$2 > 30 { bad = 1 } END { exit bad }" per-slice
'
test_expect_success '--slice 0.5 and --slice 0' '
	"$RAMPA" record -q --slice 0.5 -o half.folded -- $PY "$W" 0.3 2>err &&
	head -1 half.folded | grep -q ", slice 0.5 s, window command, groups none$" &&
	"$RAMPA" record -q --slice 0 -o none.folded -- $PY "$W" 0.3 2>err &&
	! grep -q "slice" none.folded &&
	test_expect_code 2 "$RAMPA" report none.folded --from 1 2>err && grep -q "no time axis" err &&
	test_expect_code 2 "$RAMPA" record --slice 0.01 -- true 2>err && grep -q "invalid --slice" err
'
# The run stops at -d while CMD sleeps on: it exits 143 (SIGTERM). The
# first slice holds the interpreter's start-up too (a tenth of a second idle,
# more under load): the sleep fills most of it, and all of the next two.
test_expect_success 'wall mode: a sleep open at the end is split over its slices' '
	test_expect_code 143 "$RAMPA" record -q --mode wall -d 3 -o sleep.folded -- \
		$PY -c "import time; time.sleep(30)" &&
	grep -A1 "sleep" sleep.folded | grep "^# slices" | sort | tail -1 >sl && cat sl &&
	awk "{ gsub(/[][]/, \"\"); for (i = 3; i <= NF; i++) { split(\$i, kv, \"=\"); n++;
		if (kv[1] == 0 && (kv[2] < 500000 || kv[2] > 1000000)) bad = 1
		if (kv[1] >= 1 && (kv[2] < 990000 || kv[2] > 1010000)) bad = 1 } }
		END { exit !(n == 3 && !bad) }" sl
'
N="$TESTS_DIR/workloads/naps.py"
# A nap that ends mid-run spans slices: its time goes to the slices it
# covered, not all to the one where it ended (1-2 s and 2-3 s held nothing
# and 3-4 s held 3 s before).
test_expect_success 'wall: a 3.5 s nap is in each slice it covered, 1 s a slice' '
	"$RAMPA" record -q --mode wall -o nap.folded -- $PY "$N" 1 3.5 2>err &&
	for w in "1 2" "2 3"; do
		set -- $w &&
		"$RAMPA" report nap.folded --from $1 --to $2 -o "nap$1.folded" 2>/dev/null &&
		t=$(total "nap$1.folded") && n=$(share "nap$1.folded" ";nap \\(") &&
		echo "$1-$2 s: $t us, nap $n%" &&
		awk -v t="$t" -v n="$n" "BEGIN { exit !(t > 900000 && t < 1100000 && n >= 95) }" || exit 1
	done
'
test_expect_success SPEEDSCOPE 'wall -o x.gecko.json: the two naps are markers, as long as they were' '
	"$RAMPA" record --mode wall -o naps.gecko.json -- $PY "$N" 2 0.6 2>err && cat err &&
	grep -Eq "^  markers       [0-9]+ waits of 1 ms or more" err &&
	node "$TESTS_DIR/browser/gecko-check.cjs" naps.gecko.json >out &&
	grep "^marker .* Off-CPU: blocked .* function=nap (" out >naps && cat naps &&
	[ "$(wc -l <naps)" -eq 2 ] && sed -n "s/^nap //p" err >truth && cat truth &&
	paste -d " " naps truth | awk "{
		s = \$0; sub(/.* start=/, \"\", s); split(s, a, /[ =]/); start = a[1]; end = a[3]
		len = end - start; py = (\$(NF) - \$(NF - 1)) * 1000
		print \"marker \" start \"..\" end \" (\" len \" ms), the workload measured \" py \" ms\"
		if (len < 595 || len > py + 2 || start < last) bad = 1; last = end }
		END { exit bad }"
'
test_expect_success SPEEDSCOPE 'gecko: on-CPU samples at their instants: none of spin() inside a nap' '
	grep -Eq "^  instants      [0-9]+ on-CPU samples with their instant" err &&
	python3 - naps.gecko.json <<-\EOF
	import json, sys
	d = json.load(open(sys.argv[1]))["profile"]
	extra = {e["label"]: e["value"] for e in d["meta"]["extra"][0]["entries"]}
	assert extra["Sample times"].startswith("on-CPU samples at their measured instants"), extra
	t = d["threads"][0]
	st, fr, stk = t["stringTable"], t["frameTable"]["data"], t["stackTable"]["data"]
	def names(s):
	    while s is not None:
	        yield st[fr[stk[s][1]][0]]
	        s = stk[s][0]
	naps = [(m[1], m[2]) for m in t["markers"]["data"]
	        if st[m[0]] == "Off-CPU: blocked" and m[5]["function"].startswith("nap (")]
	spin = [s[1] for s in t["samples"]["data"] if s[0] is not None
	        and any(n.startswith("spin (") for n in names(s[0]))
	        and not any(n in ("[off-cpu]", "[runqueue]") for n in names(s[0]))]
	inside = [x for x in spin for a, b in naps if a < x < b]
	print(f"naps {naps}, {len(spin)} spin samples, {len(inside)} inside a nap")
	assert len(naps) == 2 and len(spin) >= 10 and not inside
	EOF
'
test_expect_success SPEEDSCOPE 'gil-wait -o x.gecko.json: both workers have GIL wait markers' '
	"$RAMPA" gil-wait -q -o gil.gecko.json -- $PY "$TESTS_DIR/workloads/gil.py" workers 2 1.5 >table &&
	node "$TESTS_DIR/browser/gecko-check.cjs" gil.gecko.json >out &&
	grep "^marker .* Waiting for the GIL .* function=\(burn\|worker\) (" out |
		sed -n "s/.* tid=\([0-9]*\) .*/\1/p" | sort | uniq -c >per-tid && cat per-tid &&
	[ "$(awk "\$1 >= 3" per-tid | wc -l)" -eq 2 ]
'
# sleep0() gives the GIL up 2000 times (time.sleep(0)) against a spinner at a
# 0.2 ms switch interval: hundreds of waits under 1 ms on both sides. The
# markers (a marker each for waits of 1 ms or more, one merged marker per
# thread and slice for the rest) hold the GIL wait the table measured.
test_expect_success SPEEDSCOPE 'gil-wait -o x.gecko.json: markers hold every wait, short ones merged' '
	"$RAMPA" gil-wait --json -o short.gecko.json -- \
		$PY "$TESTS_DIR/workloads/gil.py" sleep0 2000 2 >short.json 2>err && cat err &&
	grep -E "^  markers       [0-9]+ waits of 1 ms or more with their start and end, [0-9]+ markers merging [0-9]+ shorter waits" err &&
	node "$TESTS_DIR/browser/gecko-check.cjs" short.gecko.json >out &&
	grep -q "^marker .* Waiting for the GIL (short waits merged) " out &&
	python3 - short.gecko.json short.json <<-\EOF
	import json, sys
	d = json.load(open(sys.argv[1]))["profile"]
	table = json.load(open(sys.argv[2]))
	waits = sum(t["gil_wait_s"] for p in table["processes"] for t in p["threads"]) * 1000
	nwaits = sum(t["waits"] for p in table["processes"] for t in p["threads"])
	ms = [m for t in d["threads"] for m in t["markers"]["data"]]
	merged = [m for m in ms if m[5]["waits"] != 1 or "merged" in d["threads"][0]["stringTable"][m[0]]]
	single = sum(m[2] - m[1] for m in ms if m not in merged)
	assert all(abs(m[5]["waited"] - (m[2] - m[1])) < 0.01 for m in ms if m not in merged)
	assert all(m[5]["waited"] <= m[2] - m[1] + 0.01 for m in merged)
	total = single + sum(m[5]["waited"] for m in merged)
	short = sum(m[5]["waits"] for m in merged)
	print(f"table: {waits:.1f} ms in {nwaits} waits; markers: {len(ms) - len(merged)} "
	      f"waits ({single:.1f} ms) and {len(merged)} merged ({short} waits): {total:.1f} ms")
	assert short >= 200, short
	assert abs(total - waits) <= 0.1 * waits, (total, waits)
	EOF
'
# Through pyenv's shim (a shell that execs python), the shell's children
# leave threads with markers and no sample: a thread with no sample is not
# the process's main thread (speedscope opens the first one, found empty).
test_expect_success SPEEDSCOPE 'wall through a shell wrapper: the gecko file opens on samples' '
	"$RAMPA" record -q --mode wall -o shim.gecko.json -- \
		sh -c "for i in 1 2 3 4 5; do sleep 0.003; done; $PY \"$N\" 1 0.2" &&
	node "$TESTS_DIR/browser/gecko-check.cjs" shim.gecko.json >shim.out &&
	grep "^thread" shim.out && grep -Eq "^thread GeckoMain .* samples=[1-9]" shim.out &&
	! grep -E "^thread GeckoMain .* samples=0$" shim.out
'
test_expect_success SPEEDSCOPE 'cpu mode and report: no markers (no intervals measured or kept)' '
	"$RAMPA" record -q -o cpu.gecko.json -- $PY "$N" 1 0.2 &&
	node "$TESTS_DIR/browser/gecko-check.cjs" cpu.gecko.json >out && ! grep -q "^marker " out &&
	"$RAMPA" record -q -m wall -o w.folded -- $PY "$N" 1 0.2 &&
	"$RAMPA" report -q w.folded -o w.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" w.gecko.json >out && ! grep -q "^marker " out
'
# mp_pool.py fork: a parent and two workers, all named python3.11. Each is
# a process of its own in the gecko file, with its real PID; a folded file
# without "NAME-PID" frames says the PID is unknown.
test_expect_success SPEEDSCOPE 'record -o x.gecko.json of a tree: each process with its PID' '
	"$RAMPA" record -o tree.gecko.json -- $PY "$TESTS_DIR/workloads/mp_pool.py" fork 0.2 1 \
		2>err && cat err &&
	parent=$(sed -n "1s/.*(PID \([0-9]*\)).*/\1/p" err) && echo "parent $parent" &&
	node "$TESTS_DIR/browser/gecko-check.cjs" tree.gecko.json >out && grep "^thread" out &&
	grep -q "^thread GeckoMain process=python3.11 pid=$parent tid=all threads " out &&
	sed -n "s/^thread GeckoMain process=python3.11 pid=\([0-9]*\) tid=all threads samples=[1-9].*/\1/p" out |
		sort -u >pids && cat pids && [ "$(wc -l <pids)" -eq 3 ] &&
	"$RAMPA" record -q -T -o tree.folded -- $PY "$TESTS_DIR/workloads/mp_pool.py" fork 0.2 0.3 &&
	"$RAMPA" report -q tree.folded -o tree2.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" tree2.gecko.json >out && grep "^thread" out &&
	! grep "^thread " out | grep -v " pid=unknown (python3.11) "
'
test_expect_success 'report of a folded file to gecko says once that it has no markers' '
	"$RAMPA" report w.folded -o w2.gecko.json 2>err && cat err &&
	[ "$(grep -c "keeps no wait markers and no sample instants" err)" -eq 1 ] &&
	grep -q "record straight to gecko" err &&
	"$RAMPA" report w.folded -o w.svg 2>err && ! grep -q "wait markers" err
'
test_done
