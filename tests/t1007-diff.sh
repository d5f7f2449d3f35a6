#!/usr/bin/env bash
# rampa-bpf diff: difffolded lines, the change table, sampling noise told
# apart from change (two-proportion z-test), --fail-above for CI, and the
# differential flame graph.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v python3 >/dev/null || skip_all "needs python3 to parse the SVG"
FIX="$TESTS_DIR/fixtures/formats"
BASE="$FIX/diff-base.folded"
NEW="$FIX/diff-new.folded"

test_expect_success 'diff --help documents every option and the exit status' '
	"$RAMPA" diff --help >out &&
	for o in --output --format --top --confidence --fail-above --title --lenient --hz; do
		grep -q -- "$o" out || { echo "missing $o"; exit 1; }
	done && grep -q "7 --fail-above exceeded" out
'
test_expect_success '-o x.folded writes difffolded lines: stack base new' '
	"$RAMPA" diff -q "$BASE" "$NEW" -o d.folded >/dev/null &&
	cat >expect <<-\EOT &&
	python3;MainThread-101;<module> (app.py:10);main (app.py:5);compute (app.py:20) 5000 5010
	python3;MainThread-101;<module> (app.py:10);main (app.py:5);json.dumps (/usr/lib/python3.11/json/__init__.py:231);encode (/usr/lib/python3.11/json/encoder.py:200) 3000 5000
	python3;MainThread-101;<module> (app.py:10);main (app.py:5);new_path (app.py:50) 0 400
	python3;MainThread-101;<module> (app.py:10);main (app.py:5);old_path (app.py:40) 500 0
	python3;worker-102;run (app.py:30);read_[k] 1500 1510
	EOT
	diff -u expect d.folded
'
test_expect_success 'the table gives both shares and the delta, biggest first' '
	"$RAMPA" diff "$BASE" "$NEW" >out && cat out &&
	grep -q "^# BASE .*diff-base.folded: 10000 samples; NEW .*diff-new.folded: 11920 samples$" out &&
	sed -n "/^# total share/,/^$/p" out >total &&
	sed -n 3p total | grep -Eq " +30.00% +41.95% +\+11.95 +18.3  yes +encode " &&
	# json.dumps grew only through encode, its callee: "via", after the sources.
	grep -Eq " +30.00% +41.95% +\+11.95 +18.3  via +json.dumps " total &&
	grep -Eq " via +main \(app.py\)$" total && ! grep -Eq " (yes|via) +python3$" total &&
	grep -Eq " +50.00% +42.03% +-7.97 +-11.8  yes +compute \(app.py\)$" total &&
	grep -Eq " +0.00% +3.36% +\+3.36 .* yes +new_path \(app.py\)$" total &&
	sed -n "/^# self share/,/^$/p" out >self &&
	sed -n 3p self | grep -Eq " +30.00% +41.95% +\+11.95 .* encode " &&
	! grep -q "main (app.py)" self
'
test_expect_success 'call paths that disappeared are listed' '
	grep -A1 "^# call paths only in BASE: 1$" out |
		grep -q "^   5.00% python3;MainThread-101;<module> (app.py:10);main (app.py:5);old_path (app.py:40)$"
'
test_expect_success 'few samples: a 20-point swing is not significant; 100x more is' '
	printf "%s\n" "p;a 6" "p;b 4" >small-base.folded && printf "%s\n" "p;a 4" "p;b 6" >small-new.folded &&
	"$RAMPA" diff small-base.folded small-new.folded >out &&
	grep -Eq " +40.00% +60.00% +\+20.00 +0.9  no +b$" out &&
	printf "%s\n" "p;a 600" "p;b 400" >big-base.folded && printf "%s\n" "p;a 400" "p;b 600" >big-new.folded &&
	"$RAMPA" diff big-base.folded big-new.folded >out &&
	grep -Eq " +40.00% +60.00% +\+20.00 +8.9  yes +b$" out
'
test_expect_success 'noise only: small wobbles across 20 functions are all not significant' '
	for i in $(seq 0 19); do
		echo "svc;handler;f$i $((1000 + 30 * (i % 3)))" >>noise-base.folded
		echo "svc;handler;f$i $((1000 + 30 * ((i + 1) % 3)))" >>noise-new.folded
	done &&
	"$RAMPA" diff --top 100 noise-base.folded noise-new.folded >out &&
	[ "$(grep -c " yes " out)" -eq 0 ] && [ "$(grep -Ec " no +f[0-9]+$" out)" -ge 20 ] &&
	"$RAMPA" diff --fail-above 0 noise-base.folded noise-new.folded >/dev/null
'
test_expect_success '--confidence moves the bar' '
	"$RAMPA" diff --confidence 50 small-base.folded small-new.folded >out &&
	grep -q "50% confidence (|z| >= 0.67)" out && grep -Eq "0.9  yes +b$" out
'
test_expect_success '--fail-above: exit 7 naming the function when a share grew more' '
	test_expect_code 7 "$RAMPA" diff --fail-above 10 "$BASE" "$NEW" >/dev/null 2>err &&
	grep -q "regression: json.dumps (/usr/lib/python3.11/json/__init__.py): total share 30.00% -> 41.95% (+11.95 points > 10" err &&
	"$RAMPA" diff --fail-above 12 "$BASE" "$NEW" >/dev/null 2>err && [ ! -s err ]
'
test_expect_success '--fail-above ignores growth the samples cannot tell from noise' '
	"$RAMPA" diff --fail-above 5 small-base.folded small-new.folded >/dev/null &&
	test_expect_code 7 "$RAMPA" diff --fail-above 5 big-base.folded big-new.folded >/dev/null 2>err
'
test_expect_success 'time profiles: the test counts samples from the rate' '
	printf "%s\n" "p;a 600000" "p;b 400000" >us-base.folded &&
	printf "%s\n" "p;a 580000" "p;b 420000" >us-new.folded &&
	"$RAMPA" diff --mode wall us-base.folded us-new.folded >out 2>err &&
	grep -q "no sampling rate is known" err && grep -Eq " yes +b$" out &&
	"$RAMPA" diff --mode wall --hz 1000 us-base.folded us-new.folded >out 2>err &&
	[ ! -s err ] && grep -Eq " +40.00% +42.00% +\+2.00 +0.9  no +b$" out
'
test_expect_success 'the first line names the comparison; time changes beside shares' '
	"$RAMPA" diff --mode wall --hz 1000 us-base.folded us-new.folded >out &&
	head -1 out | grep -q "^# comparing shares of each profile.s total: the headers do not say" &&
	grep -Eq "^ +400 ms +420 ms +\+20.0 ms +40.00% +42.00% +\+2.00 " out &&
	"$RAMPA" diff -n absolute --mode wall --hz 1000 us-base.folded us-new.folded >out &&
	head -1 out | grep -q "^# comparing absolute time .*: given with --normalize (--normalize absolute)$" &&
	grep -Eq "^ +400 ms +420 ms +\+20.0 ms .* +0.7  no +b$" out
'
test_expect_success 'fixed work: a 3x slowdown of a function holding 86% is flagged, its sibling is not' '
	hdr="# rampa-bpf: target \"t\", mode cpu, unit samples, duration 10.000 s, rate 99 Hz, window command" &&
	printf "%s\n" "$hdr" "app;hot 860" "app;cold 140" >fw-base.folded &&
	printf "%s\n" "$hdr" "app;hot 2580" "app;cold 140" >fw-new.folded &&
	"$RAMPA" diff fw-base.folded fw-new.folded >out && cat out &&
	head -1 out | grep -q "(--normalize absolute)$" &&
	sed -n "/^# self time/,/^$/p" out >self &&
	grep -Eq "^ +8.69 s +26.1 s +\+17.4 s .* yes +hot$" self &&
	grep -Eq "^ +1.41 s +1.41 s +0 .* no +cold$" self &&
	"$RAMPA" diff -n shares fw-base.folded fw-new.folded | grep -Eq " yes +cold$"
'

cat >"$TRASH/svgq.py" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
for g in root.iter("{http://www.w3.org/2000/svg}g"):
    if g.get("class") == "f":
        t = g.find("s:title", ns).text.split("\n")
        r = g.find("s:rect", ns)
        print("|".join([t[0], r.get("width"), r.get("fill"), " / ".join(t[1:])]))
for t in root.iter("{http://www.w3.org/2000/svg}text"):
    if t.get("class") == "gone":
        print("gone|" + t.text)
PY
test_expect_success 'differential flame graph: widths from NEW, colours by change' '
	"$RAMPA" diff -q "$BASE" "$NEW" -o d.svg >/dev/null && python3 svgq.py d.svg >f && cat f &&
	grep -q "Differential CPU flame graph" d.svg &&
	grep -q "^encode .*|rgb(255,35,35)|NEW: 5000 samples (41.95%) / BASE: 3000 samples (30.00%) / delta: +11.95 points (z=18.3, significant)$" f &&
	grep -q "^compute (app.py:20)|.*|rgb([0-9]*,[0-9]*,255)|.*delta: -7.97 points" f &&
	grep -q "^new_path (app.py:50)|.*|rgb(170,100,230)|.*, significant, new)$" f &&
	grep -q "^python3|1180.00|rgb(220,220,220)|" f &&
	within "$(awk -F"|" "/^encode/ { print \$2 }" f)" $(awk "BEGIN { print 1180 * 5000 / 11920 }") 0.01
'
test_expect_success 'differential flame graph: noise is grey, gone stacks listed' '
	grep -q "^gone|python3;MainThread-101;<module> (app.py:10);main (app.py:5);old_path (app.py:40) (500 samples, 5.00% of BASE)$" f &&
	"$RAMPA" diff -q small-base.folded small-new.folded -o s.svg >/dev/null &&
	python3 svgq.py s.svg >f && grep -q "^b|.*|rgb(220,220,220)|.*not significant)$" f
'
test_expect_success 'usage errors: one file, unsupported output, bad numbers' '
	test_expect_code 2 "$RAMPA" diff "$BASE" 2>err && grep -q "give two" err &&
	test_expect_code 2 "$RAMPA" diff "$BASE" "$NEW" -o d.pb.gz 2>err && grep -q "svg or folded" err &&
	test_expect_code 2 "$RAMPA" diff --confidence 120 "$BASE" "$NEW" 2>err &&
	test_expect_code 2 "$RAMPA" diff --fail-above x "$BASE" "$NEW" 2>err &&
	test_expect_code 6 "$RAMPA" diff "$BASE" missing.folded 2>err && [ ! -e d.pb.gz ]
'
test_expect_success 'profiles of different modes: refused, unless compared as shares' '
	{ echo "# rampa-bpf: target \"x\", mode wall, unit microseconds, duration 1.000 s, window attach" &&
		cat "$NEW"; } >wall.folded &&
	head -1 wall.folded | grep -q "mode wall" &&
	test_expect_code 2 "$RAMPA" diff "$BASE" wall.folded 2>err &&
	grep -q "is a cpu profile and .wall.folded. a wall profile: their times do not compare" err &&
	"$RAMPA" diff --normalize shares "$BASE" wall.folded >out && head -1 out | grep -q "shares"
'
test_done
