#!/usr/bin/env bash
# Python overhead: slowdown of a CPU-bound Python workload profiled at 99 Hz
# against unprofiled runs alternated in one session, and the time from
# starting `record -p` to sampling, for each interpreter of the test matrix.
#
#   tools/bench/python.sh [ROUNDS] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-11}
iters=${2:-6000000}
[ "$(id -u)" -eq 0 ] || { echo "python.sh: run as root" >&2; exit 1; }
make -s all
cache=${RAMPA_PY_CACHE:-/var/cache/rampa-bpf/pythons}
tests/pythons/install.sh --no-dbg --cache "$cache" >/dev/null
wl=$(mktemp -d /tmp/rampa-bench.XXXXXX)
trap 'rm -rf "$wl"' EXIT
cp tests/workloads/work.py tests/workloads/split.py "$wl/"

interps=("3.11-host /usr/bin/python3.11")
while read -r label _; do
	case $label in *d-*) continue ;; esac
	interps+=("$label tests/pythons/run.sh $label")
done < <(tests/pythons/list.sh --cache "$cache")

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf '| interpreter | unprofiled (s) | record -F 99 (s) | slowdown | attach: start to sampling (ms) |\n'
printf '|---|---|---|---|---|\n'
for entry in "${interps[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	: >"$wl/base"
	: >"$wl/prof"
	for _ in $(seq "$rounds"); do
		# shellcheck disable=SC2086
		$cmd "$wl/work.py" "$iters" >>"$wl/base"
		# shellcheck disable=SC2086
		./rampa-bpf record -q -F 99 -o "$wl/p.folded" -- $cmd "$wl/work.py" "$iters" >>"$wl/prof"
	done
	# Attach: a running interpreter, record -p for a short time.
	# shellcheck disable=SC2086
	$cmd "$wl/split.py" 30 >/dev/null 2>&1 &
	pid=$!
	sleep 1
	target=$(pgrep -n -f "$wl/split.py" || echo "$pid")
	: >"$wl/attach"
	for _ in 1 2 3 4 5; do
		./rampa-bpf record -p "$target" -d 0.2 -o "$wl/a.folded" 2>&1 |
			sed -n 's/^  attach  *\([0-9]*\) ms.*/\1/p' >>"$wl/attach"
	done
	kill "$pid" 2>/dev/null || true
	pkill -f "$wl/split.py" 2>/dev/null || true
	b=$(median <"$wl/base")
	p=$(median <"$wl/prof")
	a=$(median <"$wl/attach")
	awk -v l="$label" -v b="$b" -v p="$p" -v a="$a" 'BEGIN {
		printf "| %s | %.3f | %.3f | %+.2f%% | %d |\n", l, b, p, 100 * (p / b - 1), a }'
done
