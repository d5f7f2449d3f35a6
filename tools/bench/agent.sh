#!/usr/bin/env bash
# rampa-bpf agent's own cost: 20 Python processes (2 busy in split.py, 18
# idle in a sleep loop), first DURATION seconds without the agent, then
# DURATION seconds with it (19 Hz, 10 s windows, store and a loopback push
# receiver), after a warm-up. Prints markdown: the agent's CPU as % of one
# core, the busy workloads' CPU side by side, RSS every 10 s, and the bytes
# per window and per hour per service.
# Processes started on the whole machine during each phase are counted
# (/proc/stat): the agent profiles all of them, so others' churn costs it.
#	[RAMPA=BINARY] tools/bench/agent.sh [DURATION [WARMUP]]
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-120}
warm=${2:-20}
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
for i in $(seq 18); do
	python3 -c 'import time
while True: time.sleep(0.5)' & pids+=($!)
done
mkdir -p "$tmp/recv"
python3 tests/ingest-receiver.py "$tmp/recv" & pids+=($!)
for i in $(seq 50); do [ -s "$tmp/recv/port" ] && break; sleep 0.1; done

sleep "$warm"
b0=$(ticks "${busy[@]}"); f0=$(forks); sleep "$dur"; b1=$(ticks "${busy[@]}"); f1=$(forks)
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
n=$(ls "$tmp/recv" | grep -c '\.pb\.gz$' || true)
bytes=$(cat "$tmp/recv"/*.pb.gz 2>/dev/null | wc -c)
svc=$(find "$tmp/store/windows" -mindepth 1 -maxdepth 1 -type d | wc -l)
store=$(find "$tmp/store/windows" -name '*.folded' -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')
nf=$(find "$tmp/store/windows" -name '*.folded' | wc -l)
echo "windows pushed: $n, $((bytes / (n ? n : 1))) bytes each on average (pprof, gzipped);" \
	"stored: $nf, $((store / (nf ? nf : 1))) bytes each (folded); services: $svc"
echo "per service and hour at 10 s windows: $((bytes / (n ? n : 1) * 360 / 1024)) KiB pushed per service"
grep -E "^(windows|agent|processes|samples)" "$tmp/store/status" | sed 's/^/    /'
