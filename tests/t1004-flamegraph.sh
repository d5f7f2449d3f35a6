#!/usr/bin/env bash
# The SVG flame graph: well-formed, widths proportional to the counts,
# children inside their parents, colours by frame kind, tooltips with
# count, unit and percentage. (t1008 clicks and searches in a browser.)
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v python3 >/dev/null || skip_all "needs python3 to parse the SVG"
FIX="$TESTS_DIR/fixtures/formats"

# svgq FILE: one line per frame: name|x|width|y|fill|data-n|data-v|tooltip-second-line
cat >"$TRASH/svgq.py" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
for g in root.iter("{http://www.w3.org/2000/svg}g"):
    if g.get("class") != "f":
        continue
    t = g.find("s:title", ns).text.split("\n")
    r = g.find("s:rect", ns)
    print("|".join([t[0], r.get("x"), r.get("width"), r.get("y"), r.get("fill"),
                    g.get("data-n"), g.get("data-v"), " / ".join(t[1:])]))
PY
svgq() { python3 "$TRASH/svgq.py" "$1"; }
field() { awk -F"|" -v n="$2" -v f="$3" '$1 == n { print $f; exit }' "$1"; }

test_expect_success 'the SVG is well-formed and titled with what was profiled' '
	"$RAMPA" report -q "$FIX/app.folded" -o fg.svg && svgq fg.svg >frames &&
	grep -q "<title>" fg.svg && grep -q "function zoom" fg.svg &&
	grep -q ">CPU flame graph<" fg.svg &&
	grep -q "mode cpu, unit samples, target python3 app.py (pid 4242), 10.0 s, 99 Hz, total 1000 samples" fg.svg
'
test_expect_success 'one frame per call path, width proportional to its count' '
	[ "$(wc -l <frames)" -eq 17 ] &&
	within "$(field frames all 3)" 1180 0.01 &&
	within "$(field frames "compute (/srv/app/app.py:20)" 3)" 590 0.01 &&
	within "$(field frames "encode (/usr/lib/python3.11/json/encoder.py:200)" 3)" 354 0.01 &&
	within "$(field frames "tcp_recvmsg_[k]" 3)" 59 0.01 &&
	[ "$(field frames "main (/srv/app/app.py:5)" 6)" = 950 ]
'
test_expect_success 'children sit inside their parent, one row up, in name order' '
	awk -F"|" "\$1 == \"main (/srv/app/app.py:5)\" { px = \$2; pw = \$3; py = \$4 }
		\$1 ~ /^(compute|dumps) / { n++; x[n] = \$2; w[n] = \$3; y[n] = \$4; nm[n] = \$1 }
		END { if (n != 3) exit 1
		      for (i = 1; i <= n; i++) {
			if (x[i] < px - 0.01 || x[i] + w[i] > px + pw + 0.01 || y[i] != py - 16) exit 2
			if (i > 1 && (nm[i] < nm[i - 1] || x[i] < x[i - 1])) exit 3 } }" frames
'
test_expect_success 'tooltips give count, unit, percentage and kind' '
	[ "$(field frames "compute (/srv/app/app.py:20)" 8)" = "500 samples (50.00%), self 500 samples, python" ] &&
	[ "$(field frames "dumps (/usr/lib/python3.11/json/__init__.py:231)" 8)" = "300 samples (30.00%), self 0 samples, stdlib" ] &&
	"$RAMPA" report -q "$FIX/pyspy.txt" --mode wall -o wall.svg &&
	svgq wall.svg | grep -q "^slow (examples/longrunning.py:8)|.*|87.0 us (87.00%), self 87.0 us, python$"
'
# kind_of FILL: the colour family a fill belongs to.
cat >"$TRASH/kind.awk" <<'AWK'
{ split($0, c, /[(,)]/); r = c[2]; g = c[3]; b = c[4]
  if (g > r && g > b) print "green"; else if (b > r && g > 150) print "aqua";
  else if (r > 190 && g >= 140 && b < 60) print "orange";
  else if (r > 190 && g < 120 && b < 60) print "red";
  else if (b > 200 && r > 150 && g < r) print "purple"; else print "other" }
AWK
kind() { echo "$1" | awk -f "$TRASH/kind.awk"; }
test_expect_success 'frames are coloured by kind: user, stdlib, site-packages, native, kernel' '
	[ "$(kind "$(field frames "compute (/srv/app/app.py:20)" 5)")" = green ] &&
	[ "$(kind "$(field frames "encode (/usr/lib/python3.11/json/encoder.py:200)" 5)")" = aqua ] &&
	[ "$(kind "$(field frames "recv (/usr/lib/python3.11/socket.py:700)" 5)")" = aqua ] &&
	[ "$(kind "$(field frames "dot (/usr/lib/python3/dist-packages/numpy/core/multiarray.py:5)" 5)")" = purple ] &&
	[ "$(kind "$(field frames "cblas_dgemm" 5)")" = red ] &&
	[ "$(kind "$(field frames "__libc_recv" 5)")" = red ] &&
	[ "$(kind "$(field frames "tcp_recvmsg_[k]" 5)")" = orange ] &&
	[ "$(kind "$(field frames "__x64_sys_recvfrom_[k]" 5)")" = orange ]
'
test_expect_success 'synthetic frames have colours of their own, and the legend names every kind' '
	printf "%s\n" "p;[unknown] 5" "p;a;[off-cpu] 5" "p;a;[runqueue] 2" "p;[vdso] 1" \
		"p;b;[truncated: deeper than 128 Python frames] 2" "p;c;x_[k] 3" "p;d 3" >syn.folded &&
	"$RAMPA" report -q syn.folded -o syn.svg && svgq syn.svg >sf && cat sf &&
	grep -q "^\[unknown\]|.*, not named$" sf && grep -q "^\[truncated: .*, not named$" sf &&
	grep -q "^\[off-cpu\]|.*, off-CPU$" sf && grep -q "^\[runqueue\]|.*, off-CPU$" sf &&
	grep -q "^\[vdso\]|.*, native$" sf &&
	u=$(field sf "[unknown]" 5) && o=$(field sf "[off-cpu]" 5) && d=$(field sf d 5) &&
	echo "unknown=$u off-cpu=$o native=$d" &&
	[ "$(kind "$d")" = red ] && [ "$(kind "$u")" = other ] && [ "$(kind "$o")" = other ] &&
	[ "$u" != "$o" ] && echo "$u" | grep -Eq "^rgb\(([0-9]+),\1,\1\)$" &&
	echo "$o" | awk -F"[(,)]" "{ exit !(\$4 > \$2 + 60) }" &&
	for k in python stdlib site-packages native kernel off-CPU "not named"; do
		grep -q "style=\"font-size:10px\">$k</text>" syn.svg || { echo "legend misses $k"; exit 1; }
	done
'
test_expect_success 'site-packages in a virtualenv and lib/python3.X stdlib are told apart' '
	printf "%s\n" "p;a (/venv/lib/python3.12/site-packages/req/api.py:3) 1" \
		"p;b (/opt/py/lib/python3.13/asyncio/events.py:9) 1" "p;c (/home/u/lib/pythonic.py:1) 1" \
		>kinds.folded &&
	"$RAMPA" report -q kinds.folded -o kinds.svg && svgq kinds.svg >kf &&
	grep -q "^a (.*, self 1 sample, site-packages$" kf && grep -q "^b (.*, self 1 sample, stdlib$" kf &&
	grep -q "^c (.*, self 1 sample, python$" kf
'
test_expect_success 'frames narrower than 0.1 px are left out, their weight kept' '
	{ echo "r;big 1000000"; echo "r;tiny 1"; } >narrow.folded &&
	"$RAMPA" report -q narrow.folded -o narrow.svg && svgq narrow.svg >nf &&
	! grep -q "^tiny|" nf && [ "$(field nf r 6)" = 1000001 ]
'
test_expect_success 'names with XML specials are escaped' '
	printf "%s\n" "p;operator<<(std::ostream&, \"x\") 3" "p;a>b 1" >esc.folded &&
	"$RAMPA" report -q esc.folded -o esc.svg && svgq esc.svg >ef &&
	grep -q "^operator<<(std::ostream&, \"x\")|" ef && grep -q "^a>b|" ef
'
test_done
