#!/usr/bin/env bash
# Scheduler-hook overhead: a two-thread pipe ping-pong (tens of thousands of
# context switches a second) unprofiled, under record --mode cpu (no
# scheduler hook) and under --mode wall (sched_switch hook), alternated.
#
#   tools/bench/switch.sh [ROUNDS] [ROUND_TRIPS] [WORK]
#   PINGPONG=python tools/bench/switch.sh [ROUNDS] [ROUND_TRIPS] [WORK]
#
# WORK is arithmetic per round trip: 0 gives the fastest ping-pong the machine
# can do, a few thousand (C) or a few hundred (Python) gives tens of
# thousands of switches a second. With PINGPONG=python the two threads are
# Python's (tests/workloads/pingpong.py), so every switch walks a Python
# stack. With BASELINE=path/to/other/rampa-bpf, that binary's wall and offcpu
# modes are timed in the same rounds (e.g. a build of an earlier commit).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-11}
trips=${2:-200000}
work=${3:-0}
[ "$(id -u)" -eq 0 ] || { echo "switch.sh: run as root" >&2; exit 1; }
make -s all
mkdir -p tests/.build
gcc -O2 -g -fno-omit-frame-pointer -pthread tests/workloads/pingpong.c -o tests/.build/pingpong
# Pinned to CPU 0: cross-CPU wakeups in a VM are slow and placement varies from
# run to run (1.3 s vs 3.5 s for the same work); on one CPU every round trip
# is exactly two context switches. The profiler runs on the other CPU.
pp="taskset -c 0 tests/.build/pingpong"
if [ "${PINGPONG:-c}" = python ]; then
	pp="taskset -c 0 /usr/bin/python3.11 tests/workloads/pingpong.py"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for _ in $(seq "$rounds"); do
	# shellcheck disable=SC2086
	$pp "$trips" $work >>"$out/base"
	# shellcheck disable=SC2086
	./rampa-bpf record -q -m cpu -o "$out/c.folded" -- $pp "$trips" $work >>"$out/cpu"
	# shellcheck disable=SC2086
	./rampa-bpf record -q -m wall -o "$out/w.folded" -- $pp "$trips" $work >>"$out/wall"
	# shellcheck disable=SC2086
	./rampa-bpf record -q -m offcpu -o "$out/o.folded" -- $pp "$trips" $work >>"$out/offcpu"
	if [ -n "${BASELINE:-}" ]; then
		# shellcheck disable=SC2086
		"$BASELINE" record -q -m wall -o "$out/w.folded" -- $pp "$trips" $work >>"$out/old-wall"
		# shellcheck disable=SC2086
		"$BASELINE" record -q -m offcpu -o "$out/o.folded" -- $pp "$trips" $work >>"$out/old-offcpu"
	fi
done
b=$(median <"$out/base")
# Measured, not assumed: voluntary and involuntary switches of one run.
# shellcheck disable=SC2086
$pp "$trips" $work >/dev/null &
pid=$!
sw=0
while kill -0 "$pid" 2>/dev/null; do
	n=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')
	[ "$n" -gt "$sw" ] && sw=$n
	sleep 0.02
done
rate=$(awk -v s="$sw" -v b="$b" 'BEGIN { printf "%.0f", s / b }')
printf 'pingpong: %s round trips, work %s, ~%s context switches/s unprofiled, %s rounds\n\n' \
	"$trips" "$work" "$rate" "$rounds"
printf '| run | median time (s) | slowdown vs unprofiled |\n|---|---|---|\n'
printf '| unprofiled | %.3f | - |\n' "$b"
for m in cpu wall offcpu ${BASELINE:+old-wall old-offcpu}; do
	v=$(median <"$out/$m")
	awk -v m="$m" -v v="$v" -v b="$b" 'BEGIN {
		what = m ~ /^old-/ ? "baseline --mode " substr(m, 5) : "record --mode " m
		printf "| %s | %.3f | %+.2f%% |\n", what, v, 100 * (v / b - 1) }'
done
