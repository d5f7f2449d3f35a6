#!/usr/bin/env bash
# Slowdown of a CPU-bound workload while profiled, and the time to attach,
# with confidence intervals: each round runs the fixed work unprofiled and
# under `record -F HZ -- CMD`, in alternating order (ABBA: drifts in machine
# speed cancel), and gives one paired ratio (profiled / unprofiled of the
# same round). Reported: the median ratio and a 95% bootstrap interval of
# that median, and the same for the attach time the summary prints. Nothing
# is pinned to a CPU: the numbers are those of an ordinary run. The load
# average before and after is printed: on a busy machine the interval is
# wide, and that is the honest answer.
#
#   tools/bench/overhead.sh [ROUNDS] [WORK] [HZ] [c|python]
#
# c: tests/workloads/spin.c --work WORK (fixed arithmetic, ~0.1 ms a unit);
# python: tests/workloads/work.py WORK on /usr/bin/python3.11 (stripped, no
# frame pointers: every stack is walked by CFI). The
# workload times itself, so the profiler's start-up and exit are not in the
# ratio; they are in "attach" and "profiler CPU".
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-30}
work=${2:-20000}
hz=${3:-99}
kind=${4:-c}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[ "$(id -u)" -eq 0 ] || { echo "overhead.sh: run as root" >&2; exit 1; }
make -s all
mkdir -p tests/.build
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -pthread tests/workloads/spin.c \
	-o tests/.build/spin
if [ "$kind" = python ]; then
	cmd=(/usr/bin/python3.11 tests/workloads/work.py "$work")
else
	cmd=(tests/.build/spin --work "$work")
fi

base() { "${cmd[@]}" >>"$out/base"; }
prof() {
	./rampa-bpf record -F "$hz" -o "$out/p.folded" -- "${cmd[@]}" >>"$out/prof" \
		2>"$out/summary"
	sed -n 's/^  attach  *\([0-9]*\) ms.*/\1/p' "$out/summary" >>"$out/attach"
	sed -n 's/^  profiler CPU  \([0-9.]*\) s.*/\1/p' "$out/summary" >>"$out/cpu"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "overhead: $rounds rounds of ${cmd[*]} at $hz Hz on $(nproc) CPUs ($(uname -r)); load $load0" >&2
# One run of each first, not counted: caches (unwind tables, page cache) warm.
base >/dev/null
prof
: >"$out/base" && : >"$out/prof" && : >"$out/attach" && : >"$out/cpu"
for i in $(seq "$rounds"); do
	if [ $((i % 2)) -eq 1 ]; then base && prof; else prof && base; fi
	printf '.' >&2
done
echo >&2
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# stats FILE: "median lo hi" of the numbers in FILE, lo-hi the 95% bootstrap
# interval of the median (2000 resamples, fixed seed: the same input gives
# the same interval).
stats() {
	local m
	m=$(awk 'function median(a, n,   i, j, t, b) {
		for (i = 1; i <= n; i++) b[i] = a[i]
		for (i = 2; i <= n; i++) {
			t = b[i]
			for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]
			b[j + 1] = t
		}
		return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
	}
	{ v[++n] = $1 }
	END {
		if (!n) exit
		print median(v, n)
		srand(16)
		for (r = 1; r <= 2000; r++) {
			for (i = 1; i <= n; i++) s[i] = v[int(rand() * n) + 1]
			print median(s, n)
		}
	}' "$1")
	[ -n "$m" ] || { echo "nan nan nan"; return; }
	echo "$(head -n 1 <<<"$m") $(tail -n +2 <<<"$m" | sort -g | sed -n '51p;1950p' | tr '\n' ' ')"
}

paste "$out/base" "$out/prof" | awk '{ print $2 / $1 }' >"$out/ratio"
read -r bm _ _ < <(stats "$out/base")
read -r pm _ _ < <(stats "$out/prof")
read -r r rlo rhi < <(stats "$out/ratio")
read -r a alo ahi < <(stats "$out/attach")
read -r c _ _ < <(stats "$out/cpu")
awk -v n="$rounds" -v hz="$hz" -v bm="$bm" -v pm="$pm" -v r="$r" -v lo="$rlo" -v hi="$rhi" \
	-v a="$a" -v alo="$alo" -v ahi="$ahi" -v c="$c" -v l0="$load0" -v l1="$load1" -v k="$kind" 'BEGIN {
	printf "| workload | rounds | unprofiled (s) | record -F %d (s) | slowdown, median of paired ratios [95%% CI] | attach (ms) [95%% CI] | profiler CPU (s) | load before / after |\n", hz
	printf "|---|---|---|---|---|---|---|---|\n"
	printf "| %s | %d | %.3f | %.3f | %+.2f%% [%+.2f%%, %+.2f%%] | %d [%d, %d] | %.3f | %s / %s |\n",
		k, n, bm, pm, 100 * (r - 1), 100 * (lo - 1), 100 * (hi - 1), a, alo, ahi, c, l0, l1 }'
