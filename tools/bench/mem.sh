#!/usr/bin/env bash
# rampa-bpf mem overhead: an allocation-heavy Python program
# (tools/bench/mem_alloc.py) unprofiled and under `rampa-bpf mem` (the
# default mode: sampled faults, memory syscalls; with PRECISE=1 the precise
# mode, allocator uprobes), in pairs. Each pair runs both, in alternating
# order (unprofiled first in odd pairs, profiled first in even ones), and
# gives one ratio for wall time and one for CPU time (user + system of the
# workload: what the BPF programs take from it in its own context). The
# workload times itself, so rampa-bpf's start-up is not in it. Printed: the
# median of the paired ratios, their quartiles and range, the load average
# before and after, and the medians of the profiler's CPU and of the BPF
# programs' run time (the whole machine's events: other processes' faults
# and syscalls run the programs' first checks too), from the summaries.
# With VERBOSE=1, one more run prints each BPF program's runs and cost.
#
# WORKLOAD=mem_malloc.py: objects above pymalloc's 512 bytes, every one a
# malloc (the precise mode's worst case).
#
# RAMPA=PATH: another build's rampa-bpf; RAMPA_B=PATH: a second build in the
# same rounds (each round runs unprofiled, RAMPA, RAMPA_B, in turned order):
# a before/after comparison under the same load.
#
#   [FAULT_SAMPLE=N | PRECISE=1 [SAMPLE_BYTES=SIZE]] [WORKLOAD=mem_malloc.py]
#   [VERBOSE=1] [RAMPA=PATH] [RAMPA_B=PATH] tools/bench/mem.sh [PAIRS] [WORKLOAD_ROUNDS] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
pairs=${1:-15}
wrounds=${2:-10}
py=${3:-/usr/bin/python3.11}
wl=tools/bench/${WORKLOAD:-mem_alloc.py}
rampa=${RAMPA:-./rampa-bpf}
mode=()
label="mem"
if [ -n "${FAULT_SAMPLE:-}" ]; then
	mode=(--fault-sample "$FAULT_SAMPLE")
	label="mem --fault-sample $FAULT_SAMPLE"
fi
if [ -n "${PRECISE:-}" ]; then
	mode=(--precise --sample-bytes "${SAMPLE_BYTES:-256K}")
	label="mem --precise --sample-bytes ${SAMPLE_BYTES:-256K}"
fi
[ "$(id -u)" -eq 0 ] || { echo "mem.sh: run as root" >&2; exit 1; }
make -s all
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

builds=("$rampa")
[ -n "${RAMPA_B:-}" ] && builds+=("$RAMPA_B")

# run 0: unprofiled; run K: under builds[K - 1].
run() {
	local k=$1 r

	if [ "$k" -eq 0 ]; then
		"$py" "$wl" "$wrounds" >>"$out/base"
		return
	fi
	r=${builds[$((k - 1))]}
	"$r" mem "${mode[@]}" -o "$out/m.folded" -- "$py" "$wl" "$wrounds" \
		>>"$out/mem$k" 2>"$out/err"
	sed -n 's/^  profiler CPU  \([0-9.]*\) s.*/\1/p' "$out/err" >>"$out/self$k"
	sed -n 's/^  BPF cost      \([0-9.]*\) s.*/\1/p' "$out/err" >>"$out/bpf$k"
}

# The order turns each round: unprofiled first, then second, then last.
nruns=$((${#builds[@]} + 1))
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$pairs"); do
	for j in $(seq 0 $((nruns - 1))); do
		run $(((i + j) % nruns))
	done
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# stats: median, quartiles (p25 p75), min, max of a column of numbers.
stats() {
	sort -g | awk '
	function q(p,   x, i) { x = 1 + (NR - 1) * p; i = int(x); return a[i] + (x - i) * (a[i + 1] - a[i]) }
	{ a[NR] = $1 } END { a[NR + 1] = a[NR]; printf "%.6f %.6f %.6f %.6f %.6f\n", q(0.5), q(0.25), q(0.75), a[1], a[NR] }'
}
# ratios K COLUMN: under build K / unprofiled - 1 of each round, in percent.
ratios() {
	paste -d' ' "$out/base" "$out/mem$1" |
		awk -v c="$2" '{ split($0, f, " "); n = NF / 2; printf "%.6f\n", 100 * (f[n + c] / f[c] - 1) }'
}
read -r bw _ < <(cut -d' ' -f1 "$out/base" | stats)
read -r bc _ < <(cut -d' ' -f2 "$out/base" | stats)

printf '%s, %s, %s workload rounds, %s rounds of %s runs (order turned), load average %s before, %s after\n\n' \
	"$("$py" --version)" "$wl" "$wrounds" "$pairs" "$nruns" "$load0" "$load1"
printf '| %s | unprofiled median | slowdown, median of pairs | quartiles | range |\n|---|---|---|---|---|\n' "$label"
for k in $(seq 1 ${#builds[@]}); do
	r=${builds[$((k - 1))]}
	read -r wm wq1 wq3 wlo whi < <(ratios "$k" 1 | stats)
	read -r cm cq1 cq3 clo chi < <(ratios "$k" 2 | stats)
	printf '| %s, wall | %.3f s | %+.2f%% | %+.2f%% .. %+.2f%% | %+.2f%% .. %+.2f%% |\n' "$r" "$bw" "$wm" "$wq1" "$wq3" "$wlo" "$whi"
	printf '| %s, CPU (user + sys) | %.3f s | %+.2f%% | %+.2f%% .. %+.2f%% | %+.2f%% .. %+.2f%% |\n' "$r" "$bc" "$cm" "$cq1" "$cq3" "$clo" "$chi"
done
printf '\n'
for k in $(seq 1 ${#builds[@]}); do
	read -r self _ < <(stats <"$out/self$k")
	bpf=n/a
	[ -s "$out/bpf$k" ] && read -r bpf _ < <(stats <"$out/bpf$k")
	printf '%s: profiler CPU, median: %s s; BPF run time, median (whole machine): %s s\n' \
		"${builds[$((k - 1))]}" "$self" "$bpf"
done

[ -n "${VERBOSE:-}" ] || exit 0
# Once more, verbose: each BPF program's runs and cost, rampa-bpf's peak RSS.
"$rampa" mem -v "${mode[@]}" -o "$out/m.folded" -- "$py" "$wl" "$wrounds" 2>"$out/err" >/dev/null &
pid=$!
hwm=0
while kill -0 $pid 2>/dev/null; do
	h=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status 2>/dev/null || true)
	[ -n "$h" ] && hwm=$h
	sleep 0.2
done
wait $pid || true
grep -E '^rampa-bpf: debug: BPF program|^  (profiler CPU|BPF cost|allocations) ' "$out/err" | sed 's/  */ /g'
printf 'rampa-bpf peak RSS %s KiB\n' "$hwm"
