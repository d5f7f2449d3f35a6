#!/usr/bin/env bash
# Slowdown of a CPU-bound workload while profiled, against unprofiled runs
# alternated in the same session, and the profiler's own CPU time.
#
#   tools/bench/overhead.sh [ROUNDS] [WORK]
#
# Each round runs the fixed work (tests/workloads/spin.c --work WORK) once
# unprofiled, once under `record -F 99`, once under `record -F 999`, in that
# order, so drifts in machine speed hit every column alike. Reports medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-15}
work=${2:-4000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "overhead.sh: run as root" >&2; exit 1; }
make -s all
mkdir -p tests/.build
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -pthread tests/workloads/spin.c \
	-o tests/.build/spin
spin=tests/.build/spin

# One run: the workload's own timing, and the profiler's user+sys seconds.
run() { # hz (0 = unprofiled)
	local hz=$1
	if [ "$hz" -eq 0 ]; then
		"$spin" --work "$work"
		return
	fi
	./rampa-bpf record -F "$hz" -o "$out/p.folded" -- "$spin" --work "$work" \
		>"$out/t" 2>"$out/summary"
	cat "$out/t"
	# The profiler's own user+sys time (getrusage of itself, not of CMD).
	sed -n 's/^  profiler CPU  \([0-9.]*\) s.*/\1/p' "$out/summary" >>"$out/cpu.$hz"
}

echo "overhead: $rounds rounds of spin --work $work on $(nproc) CPUs ($(uname -r))" >&2
for i in $(seq "$rounds"); do
	run 0 >>"$out/base"
	run 99 >>"$out/hz99"
	run 999 >>"$out/hz999"
	printf '.' >&2
done
echo >&2

median() { sort -g "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
b=$(median "$out/base")
printf '| run | median workload time (s) | slowdown vs unprofiled | profiler CPU (s) | profiler CPU, %% of one core |\n'
printf '|---|---|---|---|---|\n'
printf '| unprofiled | %.3f | - | - | - |\n' "$b"
# Steady state: a long -p recording, so start-up (BTF parsing, BPF load,
# symbol tables) is spread as it is in real use.
"$spin" 25 2 >/dev/null &
target=$!
sleep 0.5
for hz in 99 999; do
	./rampa-bpf record -F "$hz" -p "$target" -d 10 -o "$out/s.folded" 2>"$out/steady.$hz"
done
kill "$target" 2>/dev/null || true
for hz in 99 999; do
	m=$(median "$out/hz$hz")
	c=$(median "$out/cpu.$hz")
	awk -v m="$m" -v b="$b" -v c="$c" -v hz="$hz" 'BEGIN {
		printf "| record -F %d -- CMD | %.3f | %+.2f%% | %.3f | %.2f%% |\n", hz, m, 100 * (m / b - 1), c, 100 * c / m }'
done
for hz in 99 999; do
	sed -n 's/^  profiler CPU  \([0-9.]*\) s.*/\1/p' "$out/steady.$hz" | awk -v hz="$hz" '{
		printf "| record -F %d -p PID -d 10 (2 busy threads) | - | - | %.3f | %.2f%% |\n", hz, $1, 10 * $1 }'
done
