#!/usr/bin/env bash
# gil-wait overhead: a GIL-contended workload (4 threads each counting to a
# fixed number) unprofiled and under `rampa-bpf gil-wait`, alternated.
#
#   tools/bench/gil.sh [ROUNDS] [ITERATIONS] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-9}
iters=${2:-5000000}
py=${3:-/usr/bin/python3.11}
[ "$(id -u)" -eq 0 ] || { echo "gil.sh: run as root" >&2; exit 1; }
make -s all
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for _ in $(seq "$rounds"); do
	"$py" tests/workloads/gil.py fixed 4 "$iters" >>"$out/base"
	# The workload's time is the first line; the table follows.
	./rampa-bpf gil-wait -q -o "$out/g.folded" -- "$py" tests/workloads/gil.py fixed 4 "$iters" \
		>"$out/run" 2>/dev/null
	head -1 "$out/run" >>"$out/gil"
done
b=$(median <"$out/base")
g=$(median <"$out/gil")
printf '%s, 4 threads x %s iterations, %s rounds\n\n' "$("$py" --version)" "$iters" "$rounds"
printf '| run | median time (s) | slowdown |\n|---|---|---|\n'
printf '| unprofiled | %.3f | - |\n' "$b"
awk -v g="$g" -v b="$b" 'BEGIN { printf "| gil-wait | %.3f | %+.2f%% |\n", g, 100 * (g / b - 1) }'
