#!/usr/bin/env bash
# Every Python frame is true: code objects that die young (exec, imports,
# short programs, test collection) keep the names they had at the sample,
# nothing is invented or left unreadable, and long names stay whole. On every
# interpreter of the test matrix.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t4002.XXXXXX)
cp "$TESTS_DIR"/workloads/{exec_churn,code_replace,import_storm,short,longnames}.py "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
NMODS=120

# named FOLDED ERR: every frame named, or marked and counted (python_named),
# and the summary says so.
named() {
	python_named "$1" "$2" &&
		grep -Eq "(100.0|99.[5-9])% of those running Python code have the whole Python stack, every frame named" "$2"
}

# frames FOLDED REGEX: every distinct frame matching REGEX, one a line.
frames() { grep -v '^# ' "$1" | sed 's/ [0-9]*$//' | tr ';' '\n' | grep -E "$2" | sort -u; }

for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	# shellcheck disable=SC2086
	"$RAMPA" record -F 499 -o "$TRASH/$label.churn" -- $cmd "$WL/exec_churn.py" 2 \
		2>"$TRASH/$label.churn.err"
	test_expect_success "$label: exec churn: heavy 75% and light 25%, named exactly" '
		bad=$(frames '"$label"'.churn "<churn>" | grep -Ev "^((heavy|light) \(<churn>:[0-9]+\)|<module> \(<churn>:[0-9]+\))$");
		[ -z "$bad" ] || { echo "invented: $bad"; exit 1; }
		h=$(share '"$label"'.churn ";heavy \\(<churn>:") && l=$(share '"$label"'.churn ";light \\(<churn>:") &&
		pct=$(awk -v h="$h" -v l="$l" "BEGIN { printf \"%.1f\", 100 * h / (h + l) }") &&
		echo "heavy=$h light=$l heavy/(heavy+light)=$pct" && within "$pct" 75 5 &&
		named '"$label"'.churn '"$label"'.churn.err
	'

	# shellcheck disable=SC2086
	"$RAMPA" record -F 999 -o "$TRASH/$label.replace" -- $cmd "$WL/code_replace.py" 2 \
		2>"$TRASH/$label.replace.err"
	test_expect_success "$label: code.replace() names reusing freed memory: each in its own cycle" '
		bad=$(frames '"$label"'.replace "code_replace[.]py" | grep -Ev "^(fn_[HC]_[0-9]{6}|<module>) \($WL/code_replace.py:[0-9]+\)$");
		[ -z "$bad" ] || { echo "invented: $bad"; exit 1; }
		grep -v "^# " '"$label"'.replace | awk "
			match(\$0, /fn_[HC]_[0-9]+/) { n[substr(\$0, RSTART, RLENGTH)] += \$NF }
			/fn_H_/ { h += \$NF } /fn_C_/ { c += \$NF }
			END {
				for (k in n) { names++; if (n[k] > max) max = n[k] }
				printf \"names=%d most=%d H=%.1f%%\\n\", names, max, 100 * h / (h + c)
				exit !(names >= 100 && max <= 30 && h / (h + c) > 0.70 && h / (h + c) < 0.80)
			}" && named '"$label"'.replace '"$label"'.replace.err
	'

	# shellcheck disable=SC2086
	"$RAMPA" record -F 999 -o "$TRASH/$label.storm" -- $cmd "$WL/import_storm.py" $NMODS \
		2>"$TRASH/$label.storm.err"
	test_expect_success "$label: import storm: each module under its own <module> frame" '
		bad=$(frames '"$label"'.storm "mods/m_" | grep -Ev "^<module> \($WL/mods/m_[0-9]{3}\.py:[0-9]+\)$");
		[ -z "$bad" ] || { echo "invented: $bad"; exit 1; }
		! grep -v "^# " '"$label"'.storm | grep -E "m_([0-9]{3})\.py.*m_[0-9]{3}\.py" &&
		grep -v "^# " '"$label"'.storm | awk -v n='$NMODS' "
			match(\$0, /mods\/m_[0-9][0-9][0-9]\.py/) {
				m = substr(\$0, RSTART + 7, 3); c[m] += \$NF; t += \$NF
			}
			END {
				for (m in c) { k++; if (c[m] > max) max = c[m] }
				printf \"modules=%d of %d, samples=%d, most=%d (fair %.1f)\\n\", k, n, t, max, t / n
				exit !(k >= 0.9 * n && max <= 4 * t / n)
			}" &&
		named '"$label"'.storm '"$label"'.storm.err
	'

	# shellcheck disable=SC2086
	"$RAMPA" record -F 999 -o "$TRASH/$label.short" -- $cmd "$WL/short.py" 0.05 \
		2>"$TRASH/$label.short.err"
	test_expect_success "$label: a 0.05 s program is named whole" '
		n=$(python_frames '"$label"'.short | grep ";<module> ($WL/short.py:[0-9]*);short_task ($WL/short.py:1[01])" |
			awk "{ t += \$NF } END { print t + 0 }") && echo "short_task samples=$n" &&
		[ "$n" -ge 25 ] && named '"$label"'.short '"$label"'.short.err
	'

	# shellcheck disable=SC2086
	"$RAMPA" record -F 999 -o "$TRASH/$label.kids" -- bash -c \
		"for i in 1 2 3 4; do $cmd $WL/short.py 0.05 || exit 1; done" 2>"$TRASH/$label.kids.err"
	test_expect_success "$label: four short children of a shell are named whole" '
		n=$(python_frames '"$label"'.kids | grep ";<module> ($WL/short.py:[0-9]*);short_task ($WL/short.py:1[01])" |
			awk "{ t += \$NF } END { print t + 0 }") && echo "short_task samples=$n" &&
		[ "$n" -ge 100 ] && named '"$label"'.kids '"$label"'.kids.err
	'

	# shellcheck disable=SC2086
	"$RAMPA" record -F 499 -o "$TRASH/$label.long" -- $cmd "$WL/longnames.py" "$WL/long" 1 \
		>"$TRASH/$label.long.out" 2>"$TRASH/$label.long.err"
	test_expect_success "$label: a 600-character name in a 900-character path, whole" '
		path=$(cat '"$label"'.long.out) && [ ${#path} -gt 900 ] &&
		name="f$(printf "x%.0s" $(seq 599))" &&
		grep -v "^# " '"$label"'.long | grep -F ";$name ($path:" | grep -Eq ";$name \([^;]*:(5|6)\)(;| )" &&
		! grep -q "\[…\]" '"$label"'.long && named '"$label"'.long '"$label"'.long.err
	'
done

# Test collection imports every test module: their <module> code dies young.
mkdir -p "$WL/pyt"
for i in $(seq -w 1 120); do
	cat >"$WL/pyt/test_m$i.py" <<PY
import time
_end = time.thread_time() + 0.004
while time.thread_time() < _end:
    pass
def test_ok_$i():
    pass
PY
done
test_expect_success 'python3 -m pytest --collect-only: every frame named' '
	/usr/bin/python3.11 -m pytest --version >/dev/null 2>&1 || { echo "pytest missing"; exit 1; }
	(cd "$WL/pyt" && "$RAMPA" record -F 999 -o "$TRASH/pytest.folded" -- /usr/bin/python3.11 \
		-m pytest --collect-only -q -p no:cacheprovider) >out 2>err &&
	grep -q "120 tests collected" out &&
	n=$(grep -v "^# " pytest.folded | grep -E ";<module> \($WL/pyt/test_m[0-9]{3}\.py:[0-9]+\)" |
		awk "{ t += \$NF } END { print t + 0 }") && echo "module samples=$n" && [ "$n" -ge 200 ] &&
	bad=$(frames pytest.folded "pyt/test_m" | { grep -Ev "^<module> \($WL/pyt/test_m[0-9]{3}\.py:[0-9]+\)$" || true; }) &&
	{ [ -z "$bad" ] || { echo "invented: $bad"; false; }; } &&
	{ named pytest.folded err || { grep -B3 -A3 "unreadable" pytest.folded | head; tail -25 err; false; }; }
'
cat >"$WL/hugename.py" <<'PY'
import time, types
def body(sec):
    e = time.thread_time() + sec
    while time.thread_time() < e:
        pass
nm = "L" * 5000
types.FunctionType(body.__code__.replace(co_name=nm, co_qualname=nm), globals())(0.5)
PY
test_expect_success 'a 5000-character name: cut in the middle, marked and counted, path kept whole' '
	"$RAMPA" record -F 499 -o huge.folded -- /usr/bin/python3.11 "$WL/hugename.py" 2>err &&
	grep -v "^# " huge.folded | tr ";" "\n" | grep -E "^L+\[…\]L+ \($WL/hugename.py:[45]\) [0-9]+$|^L+\[…\]L+ \($WL/hugename.py:[45]\)$" >f &&
	[ -s f ] && LC_ALL=C awk "length(\$0) > 4100 { exit 1 }" f &&
	grep -Eq "cut in the middle \(too long\) +[0-9]+ names, [1-9][0-9]* frame labels" err
'
test_done
