#!/usr/bin/env bash
# Steady-state overhead of sampling, without the profiler's start-up: the
# workload prints its own throughput every 0.5 s while `record -p` attaches
# for some 6 s windows and not for others; each profiled window is compared
# with the unprofiled windows on both sides of it (a paired ratio). The
# median slowdown comes with a 95% bootstrap interval of the median (2000
# resamples of the windows' ratios, fixed seed) and the load average before
# and after: on a busy machine the interval is wide, and that is the
# answer. Nothing is pinned to a CPU.
#
# The profiler's own CPU time per window (its summary) is printed beside.
#
#   tools/bench/steady.sh [c|python] [CYCLES] [HZ...]   (default: 99 999)
#   STEADY_RECORD_ARGS="--slice 0" tools/bench/steady.sh ...  (more record options)
set -euo pipefail
cd "$(dirname "$0")/../.."
kind=${1:-c}
cycles=${2:-3}
shift $(($# > 2 ? 2 : $#))
rates=(99 999)
[ $# -eq 0 ] || rates=("$@")
[ "$(id -u)" -eq 0 ] || { echo "steady.sh: run as root" >&2; exit 1; }
make -s all
mkdir -p tests/.build
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -pthread tests/workloads/spin.c -o tests/.build/spin
out=$(mktemp -d)
trap 'rm -rf "$out"; kill "$pid" 2>/dev/null || true' EXIT
win=6
# Twice the windows' length: on a loaded machine attaching takes seconds,
# and the workload must outlive the last window (it is killed at the end).
total=$(( 2 * ((2 * cycles * ${#rates[@]} + 1) * win + 4) ))
load0=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$kind" = python ]; then
	/usr/bin/python3.11 tests/workloads/work.py --rate "$total" >"$out/rate" &
else
	tests/.build/spin --rate "$total" >"$out/rate" &
fi
pid=$!
sleep 2
: >"$out/windows"
for _ in $(seq "$cycles"); do
	for hz in "${rates[@]}"; do
		t0=$(date +%s.%N)
		sleep "$win"
		echo "off $t0 $(date +%s.%N)" >>"$out/windows"
		t0=$(date +%s.%N)
		# shellcheck disable=SC2086
		./rampa-bpf record -F "$hz" -p "$pid" -d "$win" -o "$out/p.folded" \
			${STEADY_RECORD_ARGS:-} 2>"$out/summary"
		echo "$hz $t0 $(date +%s.%N)" >>"$out/windows"
		echo "$hz $(sed -n 's/^  profiler CPU  \([0-9.]*\) s.*/\1/p' "$out/summary")" \
			>>"$out/cpu"
	done
done
t0=$(date +%s.%N)
sleep "$win"
echo "off $t0 $(date +%s.%N)" >>"$out/windows"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# The workload's timestamps are CLOCK_MONOTONIC, the windows' wall clock: line
# them up by the offset between the two at the end.
load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$out/rate" "$out/windows" "$kind" "$load0" "$load1" "$out/cpu" "${rates[@]}" <<'PY'
import random, statistics, sys, time
rates = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
wins = [l.split() for l in open(sys.argv[2])]
off = time.time() - time.monotonic()
def median_in(a, b):
    # Leave out the first second (attach) and the last half second of a window.
    v = [u for t, u in rates if a + 1.0 <= t + off <= b - 0.5]
    return statistics.median(v) if v else float("nan")
meds = [(w[0], median_in(float(w[1]), float(w[2]))) for w in wins]
hzs = sys.argv[7:]
cpu = {}
for l in open(sys.argv[6]):
    f = l.split()
    if len(f) == 2:
        cpu.setdefault(f[0], []).append(float(f[1]))
res = {k: [] for k in hzs}
for i, (k, m) in enumerate(meds):
    if k == "off":
        continue
    nb = [meds[j][1] for j in (i - 1, i + 1) if 0 <= j < len(meds) and meds[j][0] == "off"]
    res[k].append(m / statistics.mean(nb) - 1)
def ci(v):
    # 95% bootstrap interval of the median; fixed seed: same input, same answer.
    rnd = random.Random(16)
    meds = sorted(statistics.median(rnd.choices(v, k=len(v))) for _ in range(2000))
    return meds[50], meds[1949]
print(f"{sys.argv[3]} workload, windows of 6 s, profiled vs the unprofiled windows around them; "
      f"load {sys.argv[4]} before, {sys.argv[5]} after")
print("| rate | windows | slowdown per window | median [95% CI] | profiler CPU per window (s), median [range] |")
print("|---|---|---|---|---|")
for k in hzs:
    v = [-x for x in res[k] if x == x]
    lo, hi = ci(v)
    print(f"| -F {k} | {len(v)} | {', '.join(f'{100 * x:+.2f}%' for x in v)} | "
          f"{100 * statistics.median(v):+.2f}% [{100 * lo:+.2f}%, {100 * hi:+.2f}%] | "
          f"{statistics.median(cpu.get(k, [0])):.3f} [{min(cpu.get(k, [0])):.3f}, "
          f"{max(cpu.get(k, [0])):.3f}] |")
PY
