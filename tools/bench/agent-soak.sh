#!/usr/bin/env bash
# rampa-bpf agent under process churn, for long: 20 Python processes (2
# busy, 18 idle) live through the run while short-lived Python processes
# (of 4 services, set by OTEL_SERVICE_NAME) start back to back; the agent (19 Hz, 10 s windows, store, pushes to the loopback
# receiver of the tests) has its RSS sampled every STEP seconds. Flat is
# right: what is kept per process goes when it exits. Prints markdown: the
# RSS table, the processes started (by the churn, and on the whole machine,
# which is shared), and the agent's status at the end.
#	tools/bench/agent-soak.sh [SECONDS [STEP [RAMPA]]]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-1800}
step=${2:-10}
rampa=${3:-./rampa-bpf}
py=/usr/bin/python3.11
[ "$(id -u)" -eq 0 ] || { echo "agent-soak.sh: run as root" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

for i in 1 2; do $py tests/workloads/split.py 100000000 >/dev/null & pids+=($!); done
for i in $(seq 18); do
	$py -c 'import time
while True: time.sleep(0.5)' & pids+=($!)
done
mkdir -p "$tmp/recv"
$py tests/ingest-receiver.py "$tmp/recv" & pids+=($!)
for i in $(seq 50); do [ -s "$tmp/recv/port" ] && break; sleep 0.1; done
# The churn: each loop counts the processes it started in a file of its own.
for svc in alpha beta gamma delta; do
	# Written aside then renamed: a reader never sees the file empty.
	sh -c "n=0; while :; do OTEL_SERVICE_NAME=$svc $py -c 'sum(range(200000))'; \
		n=\$((n + 1)); echo \$n >$tmp/n.$svc.tmp; mv $tmp/n.$svc.tmp $tmp/n.$svc; \
		done" & pids+=($!)
done

"$rampa" agent -q --store "$tmp/store" --server "http://127.0.0.1:$(cat "$tmp/recv/port")" &
agent=$!
pids+=($agent)
started() { cat "$tmp"/n.{alpha,beta,gamma,delta} 2>/dev/null | awk '{ t += $1 } END { print t + 0 }'; }
forks() { awk '/^processes/ { print $2 }' /proc/stat; }
f0=$(forks)
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' /proc/$agent/status; }
echo "| t (s) | agent RSS (MB) | processes started |"
echo "|---:|---:|---:|"
t=0
while [ "$t" -le "$secs" ]; do
	kill -0 $agent 2>/dev/null || { echo "agent exited"; exit 1; }
	echo "| $t | $(rss) | $(started) |"
	[ "$t" -lt "$secs" ] || break
	sleep "$step"
	t=$((t + step))
done
ticks=$(awk '{ print $14 + $15 }' /proc/$agent/stat)
kill -TERM $agent
wait $agent || true
echo
awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v d="$secs" 'BEGIN {
	printf "agent CPU over the soak (start-up included): %.1f s = %.2f%% of one core\n",
		t / hz, 100 * t / hz / d }'
echo "processes started by the churn: $(started) in $secs s; on the whole machine: $(($(forks) - f0))"
n=$(ls "$tmp/recv" | grep -c '\.pb\.gz$' || true)
echo "windows pushed: $n, $(cat "$tmp/recv"/*.pb.gz 2>/dev/null | wc -c) bytes"
grep -E "^(windows|agent|processes|samples)" "$tmp/store/status" | sed 's/^/    /'
