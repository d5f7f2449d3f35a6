#!/usr/bin/env bash
# rampa-bpf agent's own cost: PROCS Python processes (default 20: 2 busy in
# split.py, the others idle in a sleep loop; 3 is a quiet host), first
# DURATION seconds without the agent, then
# DURATION seconds with it (19 Hz, 10 s windows, store and a loopback push
# receiver), after a warm-up. The issue's scenario is `agent.sh 600 30 20`.
# Prints markdown: the agent's CPU as % of one core, its BPF programs' run
# time (charged to the sampled tasks, not to the agent), its wake-ups (the
# context switches it asked for), the busy workloads' CPU side by side, RSS
# every 10 s, and the bytes per window and per hour per service.
# RAMPA may name several binaries ("old/rampa-bpf ./rampa-bpf"): each runs
# as an agent of its own (its store, its receiver) at the same time over the
# same processes, so they are compared on the same machine.
# Processes started on the whole machine during each phase are counted
# (/proc/stat): the agent profiles all of them, so others' churn costs it.
# The load average is printed with each phase: the machine may be shared.
#	[RAMPA="BINARY..."] tools/bench/agent.sh [DURATION [WARMUP [PROCS]]]
set -euo pipefail
cd "$(dirname "$0")/../.."
dur=${1:-120}
warm=${2:-20}
procs=${3:-20}
read -r -a bins <<<"${RAMPA:-./rampa-bpf}"
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
# Context switches the agent asked for (it slept): its wake-ups.
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"; }
# Run time of the BPF programs PID holds, in ns, from their descriptors'
# fdinfo (the engine turns the kernel's statistics on while it runs).
bpf_ns() {
	grep -sH -E '^(prog_id|run_time_ns):' /proc/"$1"/fdinfo/* | awk -F'[:\t ]+' '
	$2 == "prog_id" { id[$1] = $3 } $2 == "run_time_ns" { ns[$1] = $3 }
	END { for (f in id) if (!(id[f] in seen)) { seen[id[f]] = 1; t += ns[f] } print t + 0 }'
}

busy=()
for i in 1 2; do python3 tests/workloads/split.py 100000 >/dev/null & busy+=($!); pids+=($!); done
for i in $(seq $((procs - 2))); do
	python3 -c 'import time
while True: time.sleep(0.5)' & pids+=($!)
done

sleep "$warm"
b0=$(ticks "${busy[@]}"); f0=$(forks); sleep "$dur"; b1=$(ticks "${busy[@]}"); f1=$(forks)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
base=$(awk -v a="$b0" -v b="$b1" -v d="$dur" -v hz="$hz" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / d }')

agents=()
for k in "${!bins[@]}"; do
	mkdir -p "$tmp/$k/recv"
	python3 tests/ingest-receiver.py "$tmp/$k/recv" & pids+=($!)
	for i in $(seq 50); do [ -s "$tmp/$k/recv/port" ] && break; sleep 0.1; done
	${bins[$k]} agent -q --store "$tmp/$k/store" \
		--server "http://127.0.0.1:$(cat "$tmp/$k/recv/port")" &
	agents+=($!)
	pids+=($!)
done
sleep "$warm"
echo "| t (s) |$(for b in "${bins[@]}"; do printf ' %s RSS (MB) |' "$b"; done)"
echo "|---|$(for b in "${bins[@]}"; do printf -- '---|'; done)"
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
a0=(); w0=(); n0=()
for a in "${agents[@]}"; do a0+=("$(ticks "$a")"); w0+=("$(wakeups "$a")"); n0+=("$(bpf_ns "$a")"); done
b0=$(ticks "${busy[@]}"); f2=$(forks); t=0
while [ "$t" -lt "$dur" ]; do
	echo "| $t |$(for a in "${agents[@]}"; do printf ' %s |' "$(rss "$a")"; done)"
	sleep 10; t=$((t + 10))
done
a1=(); w1=(); n1=()
for a in "${agents[@]}"; do a1+=("$(ticks "$a")"); w1+=("$(wakeups "$a")"); n1+=("$(bpf_ns "$a")"); done
b1=$(ticks "${busy[@]}"); f3=$(forks)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "| $t |$(for a in "${agents[@]}"; do printf ' %s |' "$(rss "$a")"; done)"
# Where the RSS is: the heap, BPF maps mmapped (arrays, ring buffers),
# files mapped (the agent's code and libraries, ELF files it reads), the rest.
rss_parts() {
	awk '
/^[0-9a-f]+-[0-9a-f]+ / {
	if ($6 == "[heap]") k = "heap"; else if ($6 ~ /bpf-map/) k = "bpf";
	else if ($6 ~ /^\//) k = "files"; else k = "other"
}
/^Rss:/ { r[k] += $2 }
END { printf "heap %.1f MB, BPF maps %.1f MB, mapped files %.1f MB, other %.1f MB",
	r["heap"] / 1024, r["bpf"] / 1024, r["files"] / 1024, r["other"] / 1024 }' "/proc/$1/smaps"
}
parts=()
for a in "${agents[@]}"; do parts+=("$(rss_parts "$a")"); done
for a in "${agents[@]}"; do kill -TERM "$a"; done
for a in "${agents[@]}"; do wait "$a" || true; done
echo
awk -v a="$b0" -v b="$b1" -v d="$dur" -v hz="$hz" -v base="$base" 'BEGIN {
	printf "busy workloads CPU: %s%% of one core without the agent, %.1f%% with it\n", base,
		100 * (b - a) / hz / d }'
echo "processes started on the machine: $((f1 - f0)) without the agent, $((f3 - f2)) with it" \
	"($(((f3 - f2) / dur)) a second)"
echo "load average at the end of each phase: $load0 without the agent, $load1 with it"
for k in "${!bins[@]}"; do
	echo
	echo "${bins[$k]}:"
	awk -v a="${a0[$k]}" -v b="${a1[$k]}" -v d="$dur" -v hz="$hz" 'BEGIN {
		printf "agent CPU over %d s of steady state: %.2f s = %.3f%% of one core\n", d,
			(b - a) / hz, 100 * (b - a) / hz / d }'
	awk -v a="${n0[$k]}" -v b="${n1[$k]}" -v d="$dur" 'BEGIN {
		printf "its BPF programs: %.2f s = %.3f%% of one core (in the sampled tasks)\n",
			(b - a) / 1e9, 100 * (b - a) / 1e9 / d }'
	awk -v a="${w0[$k]}" -v b="${w1[$k]}" -v d="$dur" 'BEGIN {
		printf "agent wake-ups (voluntary context switches): %d, %.1f a second\n", b - a,
			(b - a) / d }'
	echo "agent RSS at the end: ${parts[$k]}"
	r=$tmp/$k/recv s=$tmp/$k/store
	n=$(ls "$r" | grep -c '\.pb\.gz$' || true)
	bytes=$(cat "$r"/*.pb.gz 2>/dev/null | wc -c)
	svc=$(find "$s/windows" -mindepth 1 -maxdepth 1 -type d | wc -l)
	store=$(find "$s/windows" -name '*.folded' -printf '%s\n' | awk '{ t += $1 } END { print t + 0 }')
	nf=$(find "$s/windows" -name '*.folded' | wc -l)
	echo "windows pushed: $n, $((bytes / (n ? n : 1))) bytes each on average (pprof, gzipped);" \
		"stored: $nf, $((store / (nf ? nf : 1))) bytes each (folded); services: $svc"
	echo "per service and hour at 10 s windows: $((bytes / (n ? n : 1) * 360 / 1024)) KiB pushed per service"
	grep -E "^(windows|agent|processes|samples)" "$s/status" | sed 's/^/    /'
done
