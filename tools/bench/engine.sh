#!/usr/bin/env bash
# The engine against a baseline build, side by side: `record -p` on a C
# spinner and on a Python process with 200 sleeping threads (wall mode),
# ROUNDS alternated runs of each binary; medians of the summary's attach
# time (start to sampling), profiler CPU and coverage of the target's CPU.
#
#   BASELINE=path/to/old/rampa-bpf tools/bench/engine.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
base=${BASELINE:?give BASELINE=path/to/the/other/rampa-bpf}
[ "$(id -u)" -eq 0 ] || { echo "engine.sh: run as root" >&2; exit 1; }
make -s all
tests/run.sh t1001-folded.sh >/dev/null # builds tests/.build/spin
out=$(mktemp -d /tmp/rampa-bench.XXXXXX)
cat >"$out/threads.py" <<'PY'
import threading, time
ev = threading.Event()
for i in range(200):
    threading.Thread(target=ev.wait, daemon=True).start()
end = time.thread_time() + 1e9
x = 0
while time.thread_time() < end:
    x += 1
PY
tests/.build/spin 1000 >/dev/null 2>&1 &
spin=$!
/usr/bin/python3.11 "$out/threads.py" &
py=$!
trap 'kill $spin $py 2>/dev/null; rm -rf "$out"' EXIT
sleep 1

# run BIN ARGS...: "attach_ms profiler_cpu_s coverage_pct" of one run.
run() {
	local bin=$1
	shift
	"$bin" record -d 2 -o "$out/x.folded" "$@" 2>"$out/err" >/dev/null
	awk '/^  attach/ { a = $2 } /^  profiler CPU/ { c = $3 }
	     /^  CPU time/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(.*%\)$/) { p = $i; gsub(/[(%)]/, "", p) } }
	     END { print a, c, (p == "" ? "-" : p) }' "$out/err"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| workload | build | attach (ms) | profiler CPU (s) | coverage (%) |"
echo "|---|---|---:|---:|---:|"
for w in "C spinner, cpu mode|-p $spin" "Python, 200 sleeping threads, wall mode|-p $py --mode wall -T"; do
	name=${w%%|*}
	# shellcheck disable=SC2206
	args=(${w#*|})
	: >"$out/base" && : >"$out/new"
	for _ in $(seq "$rounds"); do
		run "$base" "${args[@]}" >>"$out/base"
		run ./rampa-bpf "${args[@]}" >>"$out/new"
	done
	for b in base new; do
		printf '| %s | %s | %s | %s | %s |\n' "$name" "$b" \
			"$(cut -d' ' -f1 "$out/$b" | median)" "$(cut -d' ' -f2 "$out/$b" | median)" \
			"$(cut -d' ' -f3 "$out/$b" | grep -v - | median)"
	done
done
