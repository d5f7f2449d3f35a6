#!/usr/bin/env bash
# Where rampa-bpf's own CPU time falls against the workload's run: before
# it (attach), while it runs (what competes with it), after it (closing the
# window, naming, writing). perf samples every CPU at 4000 Hz (cpu-clock)
# while `record -F HZ -- CMD` runs; the workload's run is the span of its
# own samples. ROUNDS rounds, each build of BUILDS in turn (a tree's
# rampa-bpf; default: this tree's), the load beside each.
#
#   tools/bench/window-cpu.sh [ROUNDS] [HZ] [BUILD...]
#   (workload: tests/workloads/work.py 10000000 on /usr/bin/python3.11;
#    WINDOW_CPU_CMD="..." replaces it)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
hz=${2:-99}
shift $(($# > 2 ? 2 : $#))
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=("$PWD")
[ "$(id -u)" -eq 0 ] || { echo "window-cpu.sh: run as root" >&2; exit 1; }
command -v perf >/dev/null || { echo "window-cpu.sh: needs perf (linux-perf)" >&2; exit 1; }
cmd=${WINDOW_CPU_CMD:-/usr/bin/python3.11 $PWD/tests/workloads/work.py 10000000}
comm=$(basename "${cmd%% *}")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| build | round | rampa-bpf CPU before the workload (ms) | while it runs (ms) | after it (ms) | workload (s) | load |"
echo "|---|---:|---:|---:|---:|---:|---|"
for r in $(seq "$rounds"); do
	for b in "${builds[@]}"; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		# shellcheck disable=SC2086
		perf record -q -F 4000 -e cpu-clock -o "$out/perf.data" -- \
			"$b/rampa-bpf" record -q -F "$hz" -o "$out/p.folded" -- $cmd >"$out/work" 2>/dev/null
		perf script -i "$out/perf.data" -F comm,pid,time 2>/dev/null |
			awk -v b="$b" -v r="$r" -v load="$load" -v comm="$comm" -v w="$(tail -1 "$out/work")" '
			$1 == comm { t = $3 + 0; if (!s || t < s) s = t; if (t > e) e = t; next }
			$1 == "rampa-bpf" && !pid { pid = $2 }
			$1 == "rampa-bpf" && $2 == pid { v[++n] = $3 + 0 }
			END {
				for (i = 1; i <= n; i++)
					if (v[i] < s) pre++; else if (v[i] <= e) dur++; else post++
				printf "| %s | %d | %.1f | %.1f | %.1f | %s | %s |\n", b, r, pre * 0.25,
					dur * 0.25, post * 0.25, w, load
			}'
	done
done
