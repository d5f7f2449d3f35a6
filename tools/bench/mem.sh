#!/usr/bin/env bash
# rampa-bpf mem overhead: an allocation-heavy Python program
# (tools/bench/mem_alloc.py) unprofiled and under `rampa-bpf mem` (the
# default mode: sampled faults, memory syscalls; with PRECISE=1 the precise
# mode, allocator uprobes), alternated; the workload times itself. Also the
# profiler's CPU and peak RSS.
#
# WORKLOAD=mem_malloc.py: objects above pymalloc's 512 bytes, every one a
# malloc (the precise mode's worst case).
#
#   [FAULT_SAMPLE=N | PRECISE=1 [SAMPLE_BYTES=SIZE]] [WORKLOAD=mem_malloc.py]
#       tools/bench/mem.sh [ROUNDS] [WORKLOAD_ROUNDS] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
wrounds=${2:-40}
py=${3:-/usr/bin/python3.11}
fs=${FAULT_SAMPLE:-64}
wl=tools/bench/${WORKLOAD:-mem_alloc.py}
mode=(--fault-sample "$fs")
label="mem --fault-sample $fs"
if [ -n "${PRECISE:-}" ]; then
	mode=(--precise --sample-bytes "${SAMPLE_BYTES:-256K}")
	label="mem --precise --sample-bytes ${SAMPLE_BYTES:-256K}"
fi
[ "$(id -u)" -eq 0 ] || { echo "mem.sh: run as root" >&2; exit 1; }
make -s all
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for _ in $(seq "$rounds"); do
	"$py" "$wl" "$wrounds" >>"$out/base"
	./rampa-bpf mem -q "${mode[@]}" -o "$out/m.folded" -- "$py" "$wl" "$wrounds" \
		>>"$out/mem"
done
b=$(median <"$out/base")
m=$(median <"$out/mem")
printf '%s, %s, %s workload rounds, %s runs each, alternated\n\n' "$("$py" --version)" "$wl" "$wrounds" "$rounds"
printf '| run | median time (s) | slowdown |\n|---|---|---|\n'
printf '| unprofiled | %.3f | - |\n' "$b"
awk -v m="$m" -v b="$b" -v l="$label" 'BEGIN { printf "| %s | %.3f | %+.2f%% |\n", l, m, 100 * (m / b - 1) }'
# Once more with the summary: the profiler's CPU, the BPF programs' cost, and
# rampa-bpf's own peak RSS (VmHWM, read just before it exits).
./rampa-bpf mem "${mode[@]}" -o "$out/m.folded" -- "$py" "$wl" "$wrounds" 2>"$out/err" >/dev/null &
pid=$!
hwm=0
while kill -0 $pid 2>/dev/null; do
	h=$(awk '/^VmHWM:/ { print $2 }' /proc/$pid/status 2>/dev/null || true)
	[ -n "$h" ] && hwm=$h
	sleep 0.2
done
wait $pid || true
printf '\nprofiler: %s; %s; peak RSS %s KiB\n' "$(grep -o 'profiler CPU.*' "$out/err" | sed 's/  */ /g')" \
	"$(grep -o 'BPF cost.*' "$out/err" | sed 's/  */ /g')" "$hwm"
grep -E '^  allocations ' "$out/err" | sed 's/  */ /g' || true
