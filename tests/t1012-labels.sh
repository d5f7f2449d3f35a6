#!/usr/bin/env bash
# Labels for people: --short-paths and --no-lines (report, diff), and flame
# graph boxes that read the function name first, full path in the tooltip,
# on a program that lives under a long path.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v python3 >/dev/null || skip_all "needs python3 to parse the SVG"

L=/home/someone/work/projects/customer-portal/backend/services/orders
STD=/usr/lib/python3.11
SITE=/srv/venv/lib/python3.11/site-packages
cat >"$TRASH/long.folded" <<EOF
# rampa-bpf: target "app", mode cpu, unit samples, duration 10.000 s, rate 99 Hz
python3;<module> ($L/app.py:90);main ($L/app.py:80);parse ($L/lib/parse.py:12) 300
python3;<module> ($L/app.py:90);main ($L/app.py:80);parse ($L/lib/parse.py:40) 200
python3;<module> ($L/app.py:90);main ($L/app.py:81);dumps ($STD/json/__init__.py:231);encode ($STD/json/encoder.py:200) 150
python3;<module> ($L/app.py:90);main ($L/app.py:82);get ($SITE/requests/api.py:73);send_[k] 50
python3;[unknown] 10
EOF
# svgq FILE: name|box text|data-l|kind (the tooltip's last field)
cat >"$TRASH/svgq.py" <<'PY'
import sys, xml.etree.ElementTree as ET
S = "{http://www.w3.org/2000/svg}"
for g in ET.parse(sys.argv[1]).getroot().iter(S + "g"):
    if g.get("class") == "f":
        t = g.find(S + "title").text.split("\n")
        print("|".join([t[0], g.find(S + "text").text or "", g.get("data-l") or "",
                        t[1].split(", ")[-1]]))
PY

test_expect_success 'flame graph boxes: function first, base name and line; full path in the tooltip' '
	"$RAMPA" report -q long.folded -o long.svg && python3 svgq.py long.svg >f && cat f &&
	grep -q "^parse ($L/lib/parse.py:12)|parse (parse.py:12)|parse (parse.py:12)|python$" f &&
	grep -q "^encode ($STD/json/encoder.py:200)|encode (encoder.py:200)|.*|stdlib$" f
'
test_expect_success '--short-paths: stdlib and site-packages as imported, own files from the script dir' '
	"$RAMPA" report -q --short-paths long.folded -o short.folded && cat short.folded &&
	grep -qx "python3;<module> (app.py:90);main (app.py:80);parse (lib/parse.py:12) 300" short.folded &&
	grep -qx "python3;<module> (app.py:90);main (app.py:81);dumps (json/__init__.py:231);encode (json/encoder.py:200) 150" short.folded &&
	grep -qx "python3;<module> (app.py:90);main (app.py:82);get (requests/api.py:73);send_\\[k\\] 50" short.folded &&
	grep -qx "python3;\\[unknown\\] 10" short.folded
'
test_expect_success '--short-paths keeps each frame kind (colour) in the flame graph' '
	"$RAMPA" report -q --short-paths long.folded -o short.svg && python3 svgq.py short.svg >s &&
	grep -q "^encode (json/encoder.py:200)|.*|stdlib$" s &&
	grep -q "^get (requests/api.py:73)|.*|site-packages$" s &&
	grep -q "^parse (lib/parse.py:12)|.*|python$" s
'
test_expect_success '--no-lines: a function sampled at two lines is one frame, weights summed' '
	"$RAMPA" report -q --no-lines long.folded -o nl.folded && cat nl.folded &&
	grep -qx "python3;<module> ($L/app.py);main ($L/app.py);parse ($L/lib/parse.py) 500" nl.folded &&
	[ "$(grep -c ";parse (" nl.folded)" -eq 1 ] &&
	"$RAMPA" report -q --no-lines long.folded -o nl.svg && python3 svgq.py nl.svg >n &&
	[ "$(grep -c "^parse (" n)" -eq 1 ] && grep -q "^parse ($L/lib/parse.py)|parse (parse.py)|.*|python$" n
'
test_expect_success 'both, with pstats: one entry per function under its short file' '
	"$RAMPA" report -q --short-paths --no-lines long.folded -o both.pstats &&
	python3 -c "
import pstats
s = pstats.Stats(\"both.pstats\").stats
k = [f for f in s if f[2] == \"parse\"]
assert k == [(\"lib/parse.py\", 0, \"parse\")], k
assert abs(s[k[0]][2] - 500 / 99) < 1e-6
"
'
test_expect_success 'diff --short-paths: two checkouts of the same code compare as the same' '
	sed "s|$L|/tmp/ci-build-8841/checkout|g" long.folded >other.folded &&
	"$RAMPA" diff long.folded other.folded >full && grep -q "^# call paths only in BASE: [1-9]" full &&
	"$RAMPA" diff --short-paths long.folded other.folded >short &&
	grep -q "^# call paths only in BASE: 0$" short && ! grep -q " yes " short
'
test_done
