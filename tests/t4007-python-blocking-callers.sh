#!/usr/bin/env bash
# Stacks taken as threads block (wall and offcpu modes) are true: one
# blocking site reached from different callers keeps each caller's share,
# and code objects that die young and are replaced at the same addresses,
# blocking at the same frame address and instruction, keep their own names.
# Wall mode on one interpreter of each version of the test matrix, offcpu on
# the host's.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workload goes there.
WL=$(mktemp -d /tmp/rampa-t4007.XXXXXX)
cp "$TESTS_DIR"/workloads/blocking_callers.py "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT

# named FOLDED ERR: no frame marked unreadable or unnamed.
named() { python_named "$1" "$2"; }
# probed ERR: code_dealloc was probed, and the churn's code objects were seen
# freed, so the walks reused checked code objects (the path under test).
probed() { grep -E "^  code frees    watched in [1-9][0-9]* of [0-9]+ Python processes \([1-9][0-9]* code" "$1"; }

# truth FOLDED [MARK]: in the time blocked (stacks holding MARK), a's share
# of wait_here (75 +- 5), fn_H's of the churn (75 +- 5), and no name holding
# more than 5% of the churn (about 220 cycles of 4.4 ms: a name's own cycle
# is 0.5% of them, 2% when a loaded machine wakes a 1 ms sleep late; a name
# kept past its cycle gathers every later one); every frame of the workload
# is one of its functions (a list comprehension is one before 3.12).
truth() {
	local bad
	bad=$(grep -v '^# ' "$1" | sed 's/ [0-9]*$//' | tr ';' '\n' | grep -F "$WL/" | sort -u |
		grep -Ev "^(<module>|<listcomp>|callers|a|b|wait_here|churn|fn_[HC]_[0-9]{6}) \($WL/blocking_callers.py:[0-9]+\)$")
	[ -z "$bad" ] || { echo "invented: $bad"; return 1; }
	# Native frames sit between Python ones (3.9, 3.10: one eval call each).
	python_frames "$1" | grep -v '^# ' | grep -F "${2:-}" | awk '
		/;a \([^;]*blocking_callers.py:[0-9]+\);wait_here \(/ { a += $NF }
		/;b \([^;]*blocking_callers.py:[0-9]+\);wait_here \(/ { b += $NF }
		match($0, /fn_[HC]_[0-9]+/) {
			n[substr($0, RSTART, RLENGTH)] += $NF
			if ($0 ~ /fn_H_/) h += $NF; else c += $NF
		}
		END {
			for (k in n) { names++; if (n[k] > most) most = n[k] }
			if (a + b == 0 || h + c == 0) { print "no a/b or churn stacks"; exit 1 }
			pa = 100 * a / (a + b); ph = 100 * h / (h + c); pm = 100 * most / (h + c)
			printf "a=%.1f%% of wait_here, H=%.1f%% of churn, %d names, most %.2f%%\n", pa, ph, names, pm
			exit !(pa > 70 && pa < 80 && ph > 70 && ph < 80 && names >= 100 && pm <= 5)
		}'
}

seen=" "
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	minor=$(echo "$label" | grep -oE '^[0-9]+[.][0-9]+')
	case $seen in *" $minor "*) continue ;; esac
	seen="$seen$minor "
	# shellcheck disable=SC2086
	"$RAMPA" record -m wall -o "$TRASH/$label.wall" -- $cmd "$WL/blocking_callers.py" 1 \
		2>"$TRASH/$label.wall.err"
	test_expect_success "$label: wall: callers a and b 3:1 at one site, churned names their own" '
		truth '"$label"'.wall "[off-cpu] " && named '"$label"'.wall '"$label"'.wall.err &&
		probed '"$label"'.wall.err
	'
done

"$RAMPA" record -m offcpu -o "$TRASH/host.offcpu" -- /usr/bin/python3.11 "$WL/blocking_callers.py" 1 \
	2>"$TRASH/host.offcpu.err"
test_expect_success "3.11-host: offcpu: callers a and b 3:1 at one site, churned names their own" '
	truth host.offcpu && named host.offcpu host.offcpu.err && probed host.offcpu.err
'
# The same, each code object read and checked at every walk (no probe): the
# truth does not depend on the probe.
RAMPA_CODE_FREE_PROBE=0 "$RAMPA" record -m offcpu -o "$TRASH/noprobe.offcpu" -- \
	/usr/bin/python3.11 "$WL/blocking_callers.py" 1 2>"$TRASH/noprobe.offcpu.err"
test_expect_success "3.11-host: offcpu, code objects read at every walk: the same truth" '
	truth noprobe.offcpu && named noprobe.offcpu noprobe.offcpu.err &&
	! grep -q "code frees" noprobe.offcpu.err
'
test_done
