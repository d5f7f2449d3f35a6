#!/usr/bin/env bash
# rampa-bpf agent's own cost: PROCS Python processes (default 20: 2 busy in
# split.py, the others idle in a sleep loop; 3 is a quiet host), first
# DURATION seconds without the agent, then
# DURATION seconds with it (19 Hz, 10 s windows, store and a loopback push
# receiver), after a warm-up. Prints markdown: the agent's CPU as % of one
# core, the busy workloads' CPU side by side, RSS every 10 s, and the bytes
# per window and per hour per service.
# Processes started on the whole machine during each phase are counted
# (/proc/stat): the agent profiles all of them, so others' churn costs it.
# The load average is printed with each phase: the machine may be shared.
#	[RAMPA=BINARY] tools/bench/agent.sh [DURATION [WARMUP [PROCS]]]
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-120}
warm=${2:-20}
procs=${3:-20}
[ "$procs" -ge 2 ] || { echo "bench: PROCS is 2 or more" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# ticks PID...: utime + stime of the processes, in clock ticks.
ticks() { for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ t += $1 } END { print t + 0 }'; }
hz=$(getconf CLK_TCK)
forks() { awk '/^processes/ { print $2 }' /proc/stat; }

busy=()
for i in 1 2; do python3 tests/workloads/split.py 100000 >/dev/null & busy+=($!); pids+=($!); done
for i in $(seq $((procs - 2))); do
	python3 -c 'import time
while True: time.sleep(0.5)' & pids+=($!)
done
mkdir -p "$tmp/recv"
python3 tests/ingest-receiver.py "$tmp/recv" & pids+=($!)
for i in $(seq 50); do [ -s "$tmp/recv/port" ] && break; sleep 0.1; done

sleep "$warm"
b0=$(ticks "${busy[@]}"); f0=$(forks); sleep "$dur"; b1=$(ticks "${busy[@]}"); f1=$(forks)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
base=$(awk -v a="$b0" -v b="$b1" -v d="$dur" -v hz="$hz" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / d }')

${RAMPA:-./rampa-bpf} agent -q --store "$tmp/store" --server "http://127.0.0.1:$(cat "$tmp/recv/port")" &
agent=$!
pids+=($agent)
sleep "$warm"
echo "| t (s) | agent RSS (MB) |"
echo "|---|---|"
a0=$(ticks $agent); b0=$(ticks "${busy[@]}"); f2=$(forks); t=0
while [ "$t" -lt "$dur" ]; do
	echo "| $t | $(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$agent/status) |"
	sleep 10; t=$((t + 10))
done
a1=$(ticks $agent); b1=$(ticks "${busy[@]}"); f3=$(forks)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# Where the RSS is: the heap, BPF maps mmapped (arrays, ring buffers),
# files mapped (the agent's code and libraries, ELF files it reads), the rest.
rss_parts=$(awk '
/^[0-9a-f]+-[0-9a-f]+ / {
	if ($6 == "[heap]") k = "heap"; else if ($6 ~ /bpf-map/) k = "bpf";
	else if ($6 ~ /^\//) k = "files"; else k = "other"
}
/^Rss:/ { r[k] += $2 }
END { printf "heap %.1f MB, BPF maps %.1f MB, mapped files %.1f MB, other %.1f MB",
	r["heap"] / 1024, r["bpf"] / 1024, r["files"] / 1024, r["other"] / 1024 }' /proc/$agent/smaps)
echo "| $t | $(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$agent/status) |"
kill -TERM $agent; wait $agent || true
echo
awk -v a="$a0" -v b="$a1" -v d="$dur" -v hz="$hz" 'BEGIN {
	printf "agent CPU over %d s of steady state: %.2f s = %.3f%% of one core\n", d, (b - a) / hz,
		100 * (b - a) / hz / d }'
awk -v a="$b0" -v b="$b1" -v d="$dur" -v hz="$hz" -v base="$base" 'BEGIN {
	printf "busy workloads CPU: %s%% of one core without the agent, %.1f%% with it\n", base,
		100 * (b - a) / hz / d }'
echo "processes started on the machine: $((f1 - f0)) without the agent, $((f3 - f2)) with it" \
	"($(((f3 - f2) / dur)) a second)"
echo "load average at the end of each phase: $load0 without the agent, $load1 with it"
echo "agent RSS at the end: $rss_parts"
n=$(ls "$tmp/recv" | grep -c '\.pb\.gz$' || true)
bytes=$(cat "$tmp/recv"/*.pb.gz 2>/dev/null | wc -c)
svc=$(find "$tmp/store/windows" -mindepth 1 -maxdepth 1 -type d | wc -l)
store=$(find "$tmp/store/windows" -name '*.folded' -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')
nf=$(find "$tmp/store/windows" -name '*.folded' | wc -l)
echo "windows pushed: $n, $((bytes / (n ? n : 1))) bytes each on average (pprof, gzipped);" \
	"stored: $nf, $((store / (nf ? nf : 1))) bytes each (folded); services: $svc"
echo "per service and hour at 10 s windows: $((bytes / (n ? n : 1) * 360 / 1024)) KiB pushed per service"
grep -E "^(windows|agent|processes|samples)" "$tmp/store/status" | sed 's/^/    /'
