#!/usr/bin/env bash
# The scheduler hook's cost per switch and the sampler's per sample, from the
# summary's "BPF cost" line (the kernel's run_time_ns / run_cnt of each
# program), on the pinned ping-pongs of switch.sh: two Python threads
# (tests/workloads/pingpong.py) and two C threads (tests/workloads/pingpong.c),
# native stacks by CFI tables and by frame pointers (RAMPA_UNWIND=fp), wall
# and offcpu modes. With BASELINE=path/to/other/rampa-bpf, that build runs in
# the same rounds, alternated, for a before/after on a loaded machine.
#
#   tools/bench/schedcost.sh [ROUNDS] [ROUND_TRIPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
trips=${2:-20000}
[ "$(id -u)" -eq 0 ] || { echo "schedcost.sh: run as root" >&2; exit 1; }
make -s all
mkdir -p tests/.build
gcc -O2 -g -fno-omit-frame-pointer -pthread tests/workloads/pingpong.c -o tests/.build/pingpong
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
builds="this"
[ -n "${BASELINE:-}" ] && builds="this base"

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# one BUILD WORKLOAD UNWIND MODE: appends "us_a_switch seconds" to its file
one() {
	local bin=./rampa-bpf pp
	[ "$1" = base ] && bin=$BASELINE
	if [ "$2" = python ]; then
		pp="taskset -c 0 /usr/bin/python3.11 tests/workloads/pingpong.py $trips"
	else
		pp="taskset -c 0 tests/.build/pingpong $((trips * 5))"
	fi
	# shellcheck disable=SC2086
	RAMPA_UNWIND=$([ "$3" = fp ] && echo fp || echo auto) "$bin" record -m "$4" \
		-o "$out/x.folded" -- $pp >"$out/time" 2>"$out/err"
	awk -v t="$(cat "$out/time")" '/scheduler hook [0-9.]+ us a switch/ {
		for (i = 1; i <= NF; i++) if ($i == "hook") us = $(i + 1) }
		END { print us, t }' "$out/err" >>"$out/$1-$2-$3-$4"
}
for _ in $(seq "$rounds"); do
	for w in python c; do
		for u in cfi fp; do
			for m in wall offcpu; do
				for b in $builds; do
					one "$b" "$w" "$u" "$m"
				done
			done
		done
	done
done
printf '| build | ping-pong | native stacks | mode | hook us a switch (median, min-max) | run time s (median) |\n'
printf '|---|---|---|---|---|---|\n'
for w in python c; do
	for u in cfi fp; do
		for m in wall offcpu; do
			for b in $builds; do
				f=$out/$b-$w-$u-$m
				us=$(cut -d' ' -f1 "$f" | median)
				lo=$(cut -d' ' -f1 "$f" | sort -g | head -1)
				hi=$(cut -d' ' -f1 "$f" | sort -g | tail -1)
				t=$(cut -d' ' -f2 "$f" | median)
				printf '| %s | %s | %s | %s | %s (%s-%s) | %.3f |\n' \
					"$b" "$w" "$u" "$m" "$us" "$lo" "$hi" "$t"
			done
		done
	done
done
