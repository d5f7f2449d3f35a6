#!/usr/bin/env bash
# Timelines on fixed input: a hand-made profile busy in f for seconds 0-2 and
# in g for seconds 2-4 (one sample of f in slice 2). report --from/--to keep
# the slices asked for; folded keeps the timeline in comment lines that other
# tools skip and our reader reads back; gecko (checked by speedscope's own
# Firefox importer), speedscope and pprof put f's samples before g's; the
# timeline's memory bound coarsens slices without losing weight.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v node >/dev/null && [ -d "$TESTS_DIR/browser/node_modules/speedscope" ] &&
	test_set_prereq SPEEDSCOPE
command -v go >/dev/null && test_set_prereq PPROF
export HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local
FIX="$TESTS_DIR/fixtures/formats"

cat >"$TRASH/tl.folded" <<'EOF'
# rampa-bpf: target "phases.py", mode cpu, unit samples, duration 4.000 s, rate 99 Hz, slice 1 s, window command
python3;<module> (/srv/phases.py:40);main (/srv/phases.py:33);f (/srv/phases.py:23);spin (/srv/phases.py:16) 200
# slices [0=99 1=100 2=1]
python3;<module> (/srv/phases.py:40);main (/srv/phases.py:35);g (/srv/phases.py:27);spin (/srv/phases.py:16) 199
# slices [2=98 3=101]
EOF
fshare() { share "$1" ";f \\("; }
gshare() { share "$1" ";g \\("; }

test_expect_success 'report --from 0 --to 2 keeps the slices of f alone' '
	"$RAMPA" report tl.folded --from 0 --to 2 -o early.folded 2>err && cat err &&
	grep -q "kept 0 s to 2 s (slices of 1 s): 199 samples of 399 samples" err &&
	[ "$(total early.folded)" -eq 199 ] && [ "$(fshare early.folded)" = 100.00 ] &&
	head -1 early.folded | grep -q "duration 2.000 s, rate 99 Hz, slice 1 s"
'
test_expect_success 'report --from 2.5 keeps g, with the boundary slice share of f' '
	"$RAMPA" report -q tl.folded --from 2.5 -o late.folded &&
	[ "$(total late.folded)" -eq 200 ] && within "$(gshare late.folded)" 99.5 0.01 &&
	"$RAMPA" report -q tl.folded --from 3 --to 3.5 -o last.folded &&
	[ "$(total last.folded)" -eq 101 ] && [ "$(gshare last.folded)" = 100.00 ]
'
test_expect_success 'the window is renumbered from 0 and keeps its timeline' '
	grep -A1 ";g (" late.folded | grep -qx "# slices \[0=98 1=101\]" &&
	grep -A1 ";f (" late.folded | grep -qx "# slices \[0=1\]"
'
test_expect_success 'the top table and diff take the window too' '
	"$RAMPA" report -q tl.folded --to 2 --sort total --top 10 >top &&
	grep -q "total 199 samples" top && ! grep -q " g (" top &&
	"$RAMPA" diff -q tl.folded tl.folded --from 2 --to 4 >d 2>&1 && cat d &&
	! grep -q " f (" d || grep " f (" d | grep -q "^ *1 "
'
test_expect_success 'round trip: folded -> report -> folded keeps the timeline' '
	"$RAMPA" report -q tl.folded -o back.folded && test_cmp tl.folded back.folded &&
	"$RAMPA" report -q back.folded --short-paths -o short.folded &&
	grep -c "^# slices \[" short.folded | grep -qx 2 &&
	"$RAMPA" report -q short.folded --from 0 --to 2 -o s2.folded && [ "$(total s2.folded)" -eq 199 ]
'
test_expect_success 'the timeline lines are comments other tools skip' '
	grep "^# slices" tl.folded >lines && [ -s lines ] &&
	! grep -E "^(.*) ([0-9]+)$" lines &&
	! perl -ne "print if /^(.*)\s+?(\d+(?:\.\d*)?)$/" lines | grep -q .
'
test_expect_success 'a folded file from another tool still reads, but has no time axis' '
	"$RAMPA" report -q "$FIX/perf.folded" -o other.folded && ! grep -q "slices" other.folded &&
	test_expect_code 2 "$RAMPA" report "$FIX/perf.folded" --from 1 2>err && cat err &&
	grep -q "perf.folded has no time axis (recorded before timelines, with --slice 0, or by another tool): --from/--to need a profile from rampa-bpf record" err
'
test_expect_success 'malformed timelines are errors naming the line, or skipped with --lenient' '
	sed "3s/.*/# slices [0=99 1=100 2=2]/" tl.folded >over.folded &&
	test_expect_code 6 "$RAMPA" report -q over.folded -o x.folded 2>err &&
	grep -q "over.folded:3: .# slices. add up to more than the stack.s count 200" err &&
	sed "3s/.*/# slices [0=99 x]/" tl.folded >bad.folded &&
	test_expect_code 6 "$RAMPA" report -q bad.folded -o x.folded 2>err &&
	grep -q "bad.folded:3: .# slices. entry" err &&
	"$RAMPA" report -q --lenient bad.folded -o x.folded 2>err && [ "$(total x.folded)" -eq 399 ] &&
	test_expect_code 2 "$RAMPA" report tl.folded --from 3 --to 2 2>err &&
	grep -q "is not after" err &&
	test_expect_code 2 "$RAMPA" report tl.folded --from 9 2>err && grep -q "nothing from 9 s" err &&
	test_expect_code 2 "$RAMPA" report tl.folded --from x 2>err && grep -q "invalid --from" err
'
test_expect_success SPEEDSCOPE 'gecko: read by speedscope Firefox importer, f before g' '
	"$RAMPA" report -q tl.folded -o tl.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" tl.gecko.json >out && cat out &&
	grep -qx "threads 1" out && grep -qx "thread GeckoMain process=python3 pid=unknown (python3) tid=all threads samples=399" out &&
	grep -qx "speedscope enters=7 duration=4000" out &&
	f=$(sed -n "s/^frame f time=\([0-9]*\) first=\([0-9]*\) half=\([0-9]*\) last=\([0-9]*\)$/\1 \2 \3 \4/p" out) &&
	g=$(sed -n "s/^frame g time=\([0-9]*\) first=\([0-9]*\) half=\([0-9]*\) last=\([0-9]*\)$/\1 \2 \3 \4/p" out) &&
	echo "f: $f g: $g" && set -- $f $g &&
	[ "$2" -lt 100 ] && [ "$3" -lt 1100 ] && [ "$4" -le "$6" ] && [ "$7" -gt 2900 ] &&
	within "$1" 2020 15 && within "$5" 1980 15
'
test_expect_success SPEEDSCOPE 'gecko: time order, not the order of the stacks' '
	printf "%s\n" "# rampa-bpf: target \"t\", mode wall, unit microseconds, duration 4.000 s, rate 99 Hz, slice 1 s" \
		"p;a_late (x.py:1) 2000000" "# slices [2=1000000 3=1000000]" \
		"p;z_early (x.py:2) 2000000" "# slices [0=1000000 1=1000000]" >rev.folded &&
	"$RAMPA" report -q rev.folded -o rev.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" rev.gecko.json >out && cat out &&
	grep -qx "thread GeckoMain process=p pid=unknown (p) tid=all threads samples=396" out &&
	grep -qx "frame z_early time=2000 first=5 half=1005 last=2005" out &&
	grep -qx "frame a_late time=1995 first=2005 half=3003 last=4000" out
'
# Without "NAME-PID" frames the PID is not known, and said so: "unknown (NAME)".
test_expect_success SPEEDSCOPE 'gecko: threads and processes from the thread frames, kinds as categories' '
	"$RAMPA" report -q "$FIX/app.folded" -o app.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" app.gecko.json >out && cat out &&
	grep -qx "threads 2" out &&
	grep -qx "thread GeckoMain process=python3 pid=unknown (python3) tid=4242 samples=950" out &&
	grep -qx "thread worker-4243 process=python3 pid=unknown (python3) tid=4243 samples=50" out &&
	printf "%s\n" "gunicorn;gunicorn-7;MainThread-7;app (a.py:1);x_[k] 5" \
		"gunicorn;gunicorn-7;w-8;b (a.py:2) 3" >pp.folded &&
	"$RAMPA" report -q pp.folded -o pp.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" pp.gecko.json >out && cat out &&
	grep -qx "thread GeckoMain process=gunicorn pid=7 tid=7 samples=5" out &&
	grep -qx "thread w-8 process=gunicorn pid=7 tid=8 samples=3" out &&
	node -e "
		const d = JSON.parse(require(\"fs\").readFileSync(\"pp.gecko.json\"));
		const t = d.profile.threads[0], cats = d.profile.meta.categories;
		const kinds = t.frameTable.data.map((f) => t.stringTable[f[0]] + \"=\" + cats[f[6]].name);
		console.log(kinds.join(\",\"));
		console.log(d.profile.meta.extra[0].entries.map((e) => e.value).join(\",\"));
		const q = JSON.parse(require(\"fs\").readFileSync(\"app.gecko.json\"));
		console.log(q.profile.meta.extra[0].entries.filter((e) => e.label == \"Processes\")[0].value);
	" >kinds && cat kinds &&
	grep -qx "app (a.py:1)=Python,x_\[k\]=Kernel" kinds &&
	grep -q "^cpu,1 samples,none (no timeline),spread evenly over their time slice, stack by stack: the order within a slice is not known,each process apart, with its PID,.*,0,0.000$" kinds &&
	grep -qx "the profile has no NAME-PID frames: the processes of one name are one, pid \"unknown (NAME)\"" kinds
'
# A run stopped 0.3 s into its last slice: that slice's samples lie in
# those 0.3 s, and the profile lasts 3.3 s, not 4.
test_expect_success SPEEDSCOPE 'gecko: nothing after the run'"'"'s end in a partial last slice' '
	sed "s/duration 4.000 s/duration 3.300 s/" tl.folded >short.folded &&
	"$RAMPA" report -q short.folded -o short.gecko.json &&
	node "$TESTS_DIR/browser/gecko-check.cjs" short.gecko.json >out && cat out &&
	node -e "
		const d = JSON.parse(require(\"fs\").readFileSync(\"short.gecko.json\"));
		const s = d.profile.threads[0].samples.data.map((x) => x[1]);
		const last = s.filter((t) => t >= 3000);
		console.log(d.duration, s.length, last.length, Math.max(...s));
		if (d.duration !== 3300 || last.length !== 101 || Math.max(...s) > 3300) process.exit(1);
	"
'
test_expect_success 'report of a gecko, speedscope, pprof or pstats file: one clear error' '
	"$RAMPA" report -q tl.folded -o tl.speedscope.json &&
	"$RAMPA" report -q tl.folded -o tl.pb.gz && "$RAMPA" report -q tl.folded -o tl.pstats &&
	"$RAMPA" report -q tl.folded -o tl2.gecko.json &&
	for f in tl2.gecko.json tl.speedscope.json tl.pb.gz tl.pstats; do
		test_expect_code 6 "$RAMPA" report "$f" --from 1 -o x.folded 2>err && cat err &&
		[ "$(wc -l <err)" -eq 1 ] && grep -q "not collapsed stacks: report and diff read folded" err ||
		exit 1
	done &&
	printf "%s\n" "[unknown];a 3" >u.folded && "$RAMPA" report -q u.folded -o u2.folded &&
	cat tl.folded | "$RAMPA" report -q - -o p.folded && [ "$(total p.folded)" -eq 399 ]
'
test_expect_success 'gecko: chosen by extension, --format gecko and its alias firefox' '
	"$RAMPA" report tl.folded -o a.gecko.json 2>err && grep -q "(gecko, 2 stacks" err &&
	"$RAMPA" report tl.folded -o b.json --format firefox 2>err && grep -q "(gecko," err &&
	cmp a.gecko.json b.json
'
test_expect_success SPEEDSCOPE 'speedscope: samples in time order, slice by slice' '
	"$RAMPA" report -q tl.folded -o tl.speedscope.json &&
	node "$TESTS_DIR/browser/speedscope-check.cjs" tl.speedscope.json >out && cat out &&
	grep -q "end=399 samples=5 weight=399" out &&
	node -e "
		const d = JSON.parse(require(\"fs\").readFileSync(\"tl.speedscope.json\"));
		const p = d.profiles[0], names = d.shared.frames.map((f) => f.name);
		console.log(p.samples.map((s, i) => names[s[3]] + \"=\" + p.weights[i]).join(\" \"));
	" >order && cat order && grep -qx "f=99 f=100 f=1 g=98 g=101" order
'
test_expect_success PPROF 'pprof: a slice_start label per sample selects a window' '
	"$RAMPA" report -q tl.folded -o tl.pb.gz &&
	go tool pprof -top -tagfocus=slice_start=2s:4s tl.pb.gz >top 2>&1 && cat top &&
	awk "\$NF == \"g\" && \$4 == 199 { g = 1 } \$NF == \"f\" && \$4 == 1 { f = 1 }
		END { exit !(f && g) }" top &&
	go tool pprof -tags tl.pb.gz >tags 2>&1 && grep -q "slice_start: Total 399" tags
'
test_expect_success 'the memory bound coarsens the slices, no weight lost' '
	"$TEST_TOOL" timeline 10 100 0 >out && cat out &&
	grep -q "^slice_sec=1 nslices=100 cells=1000 coarsened=0 total=1900 slices_add_up=yes " out &&
	"$TEST_TOOL" timeline 10 100 50 bound.folded >out && cat out &&
	grep -q "^slice_sec=32 nslices=4 cells=40 coarsened=5 total=1900 slices_add_up=yes " out &&
	head -1 bound.folded | grep -q ", slice 32 s$" && [ "$(total bound.folded)" -eq 1900 ] &&
	"$RAMPA" report -q bound.folded --from 40 --to 64 -o w.folded && [ "$(total w.folded)" -eq 608 ]
'
test_expect_success 'a window ending past the profile says the time it covers, not whole slices' '
	sed "1s/duration 4.000 s/duration 3.400 s/" tl.folded >short.folded &&
	"$RAMPA" report short.folded --from 2.5 -o late.folded 2>err && cat err &&
	grep -q "kept 2 s to 3.4 s (slices of 1 s)" err &&
	head -1 late.folded | grep -q ", duration 1.400 s,"
'
test_done
