# Sourced by every tests/tNNNN-*.sh: TAP output, prerequisites, helpers.
# shellcheck shell=bash
set -u

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$TESTS_DIR")
BUILD="$TESTS_DIR/.build"
RAMPA="$ROOT_DIR/rampa-bpf"
# Native frames by function name alone (no DWARF file:line or inlined
# frames): the call trees tests check by name must not change with the
# debug packages a machine has (libc6-dbg). Tests of lines set it to 1.
export RAMPA_SRCLINE=0
# No debug files fetched from the network while testing.
unset DEBUGINFOD_URLS
TEST_TOOL="$TESTS_DIR/test-tool"
test_name=$(basename "$0" .sh)
TRASH="$TESTS_DIR/.out/$test_name"
rm -rf "$TRASH" && mkdir -p "$TRASH"

_count=0
_failed=0
_bg_pids=()

# Kill what a test started in the background, whatever happens.
_cleanup() {
	local p
	for p in "${_bg_pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
}
trap _cleanup EXIT

bg_track() { _bg_pids+=("$1"); }

say() { printf '# %s\n' "$*"; }

# test_expect_success DESC BODY: BODY runs in a subshell with errexit off;
# its last status decides.
test_expect_success() {
	local prereq= desc body out
	[ $# -eq 3 ] && { prereq=$1; shift; }
	desc=$1 body=$2
	_count=$((_count + 1))
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		_missing_prereq "$desc" "$prereq"
		return
	fi
	out=$(
		cd "$TRASH" || exit 1
		_when_finished=
		_bg_before=${#_bg_pids[@]}
		eval "$body" 2>&1
		rc=$?
		eval "$_when_finished" 2>&1
		# What the body started and tracked ends with it: left running
		# (a check failed before the body's own kill), it would hold this
		# substitution's pipe open and hang the script.
		for p in "${_bg_pids[@]:$_bg_before}"; do
			kill -9 "$p" 2>/dev/null
		done
		exit $rc
	)
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $_count - $desc"
	else
		_failed=$((_failed + 1))
		echo "not ok $_count - $desc"
		# On stderr, so prove shows why even when not verbose (as in CI).
		printf '%s\n' "$out" | tail -n 40 | sed "s/^/#    $test_name $_count: /" >&2
	fi
}

# Prerequisites of single tests (git's): test_set_prereq NAME when what a
# test needs is there; test_expect_success NAME[,NAME...] DESC BODY runs
# BODY only if all are set. A test skipped for a missing one is a failure
# under CI=true, as a whole script's missing prerequisite is (skip_all).
_prereqs=" "
test_set_prereq() { _prereqs="$_prereqs$1 "; }
test_have_prereq() {
	local p
	for p in ${1//,/ }; do
		case "$_prereqs" in *" $p "*) ;; *) return 1 ;; esac
	done
}
_missing_prereq() {
	if [ "${CI:-}" = true ]; then
		_failed=$((_failed + 1))
		echo "not ok $_count - $1 (prerequisite $2 missing in CI)"
		echo "# $test_name $_count: prerequisite $2 missing in CI" >&2
	else
		echo "ok $_count # skip $1 (missing $2)"
	fi
}

# Inside a test body: CMD... runs when the body ends, however it ends (git's
# test_when_finished). Several run newest first.
test_when_finished() {
	_when_finished="$*; ${_when_finished:-}"
}

# test_cmp EXPECTED ACTUAL: the same text, or the difference shown.
test_cmp() { diff -u "$1" "$2"; }

# test_expect_code N CMD...: CMD exits with status N exactly.
test_expect_code() {
	local want=$1 rc
	shift
	"$@"
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	echo "test_expect_code: '$*' exited $rc, expected $want" >&2
	return 1
}

# test_must_fail CMD...: CMD fails the way a program reports an error, with
# a status from 1 to 125; not 0, not a crash (signal), not "not found".
test_must_fail() {
	local rc
	"$@"
	rc=$?
	[ "$rc" -ge 1 ] && [ "$rc" -le 125 ] && return 0
	echo "test_must_fail: '$*' exited $rc" >&2
	return 1
}

# python_named FOLDED ERR: every Python frame named, or marked and counted.
# BPF reads a target's memory without faulting pages in, so a code object
# on a page being faulted at the sample (a copy-on-write in progress) is
# unreadable: marked "[python frame unreadable]", counted in the summary
# under "code object unreadable" or "cut at unreadable memory". That may
# touch at most 0.5% of samples (and 2 at least); any other cause (names
# lost or never received) fails.
python_named() {
	local bad total
	! grep -Eq "Python frames unnamed: (code event buffer full|names never received)" "$2" ||
		{ echo "names lost"; return 1; }
	bad=$(grep -v '^# ' "$1" | grep -F "[python frame unreadable]" | awk '{ s += $NF } END { print s + 0 }')
	[ "$bad" -eq 0 ] && return 0
	total=$(awk '/^# / { next } { t += $NF } END { print t + 0 }' "$1")
	echo "unreadable: $bad of $total samples"
	grep -Eq "(code object unreadable|cut at unreadable memory)" "$2" || { echo "not counted"; return 1; }
	awk -v b="$bad" -v t="$total" 'BEGIN { exit !(b <= 2 || b <= 0.005 * t) }'
}

# Prerequisites: a missing one skips the whole script, but under CI=true it
# fails, so a broken environment can never pass as green.
skip_all() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - prerequisite missing in CI: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

require_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root"; }
require_bpf() {
	require_root
	[ -r /sys/kernel/btf/vmlinux ] || skip_all "needs kernel BTF"
	[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
}

# load_python_matrix: install the CPython test matrix (tests/pythons) and set
# interpreters to "label command..." entries, host builds first. Under CI
# every interpreter of the matrix must be there.
load_python_matrix() {
	local v label _ need
	PYCACHE=${RAMPA_PY_CACHE:-/var/cache/rampa-bpf/pythons}
	"$TESTS_DIR/pythons/install.sh" --no-dbg --cache "$PYCACHE" >"$TRASH/install.log" 2>&1 || {
		tail -20 "$TRASH/install.log" | sed 's/^/# /'
		skip_all "cannot install the CPython test matrix"
	}
	interpreters=("3.11-host /usr/bin/python3.11")
	for v in 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
		[ -x /root/.pyenv/versions/$v/bin/python ] &&
			interpreters+=("$v-pyenv /root/.pyenv/versions/$v/bin/python")
	done
	while read -r label _; do
		case $label in *d-*) continue ;; esac
		interpreters+=("$label $TESTS_DIR/pythons/run.sh $label")
	done < <("$TESTS_DIR/pythons/list.sh" --cache "$PYCACHE")
	for need in 3.9-bullseye 3.13-trixie 3.13-sid 3.14-sid 3.15-sid; do
		printf '%s\n' "${interpreters[@]}" | grep -q "^$need " ||
			{ [ "${CI:-}" = true ] && skip_all "interpreter $need missing"; }
	done
}

test_done() {
	echo "1..$_count"
	[ $_failed -eq 0 ]
	exit $?
}

# wait_profiling ERRFILE: until a record/gil-wait/mem run writing its
# messages to ERRFILE has started sampling (its "profiling ..." line), at
# most 30 s: a test's "then wait N s" must not count a slow attach.
wait_profiling() {
	for _ in $(seq 300); do
		grep -q "^rampa-bpf: \(profiling\|measuring\)" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# share FILE REGEX: percentage of the total weight in stacks matching REGEX
# ("# " header lines are not stacks).
share() {
	awk -v re="$2" '/^# / { next } { n = $NF; t += n; sub(/ [0-9]+$/, ""); if ($0 ~ re) m += n }
		END { if (t == 0) print 0; else printf "%.2f\n", 100 * m / t }' "$1"
}

# python_frames FILE: FILE's stacks with the root frame, the Python frames
# ("name (file:line)") and the [off-cpu] and [runqueue] markers only.
# Native stacks walked whole show the C frames between two Python frames
# (the interpreter's own calls); tests of Python frames alone look past
# them with this.
python_frames() {
	awk '/^# / { print; next } {
		n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); out = f[1]
		for (i = 2; i <= k; i++)
			if (f[i] ~ / \(/ || f[i] == "[off-cpu]" || f[i] == "[runqueue]") out = out ";" f[i]
		print out, n }' "$1"
}

# mib FILE REGEX: MiB of a bytes profile's weight on lines matching REGEX.
mib() {
	awk -v re="$2" '/^# / { next } { n = $NF; sub(/ [0-9]+$/, ""); if ($0 ~ re) m += n }
		END { printf "%.2f\n", m / 1048576 }' "$1"
}

# total FILE: sum of the counts.
total() { awk '/^# / { next } { t += $NF } END { print t + 0 }' "$1"; }

# within VALUE EXPECTED TOLERANCE
within() {
	awk -v v="$1" -v e="$2" -v t="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(d <= t) }' ||
		{ echo "got $1, expected $2 +- $3"; return 1; }
}

# wait_for COMMAND...: poll up to 10 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
