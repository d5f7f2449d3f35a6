#!/usr/bin/env bash
# Start-up-heavy Python: a loop of short interpreters that import a few
# modules (every code object is new, so the kernel names each at first
# sight), timed unprofiled and under `record -F 99`, alternated in one
# session. With BASELINE=path/to/other/rampa-bpf, that binary is timed in
# the same rounds (e.g. a build of an earlier commit).
#
#   tools/bench/startup.sh [ROUNDS] [RUNS-PER-ROUND] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-7}
runs=${2:-20}
py=${3:-/usr/bin/python3.11}
[ "$(id -u)" -eq 0 ] || { echo "startup.sh: run as root" >&2; exit 1; }
make -s all
# The loop times itself: the profiler's own start-up and exit are not in it.
loop="t0=\$(date +%s.%N); for i in \$(seq $runs); do $py -c 'import email, json, http.client, xml.dom.minidom' || exit 1; done; echo \"\$(date +%s.%N) - \$t0\" | bc -l"
out=$(mktemp -d /tmp/rampa-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT

secs() { # command...: the seconds the loop printed
	"$@" 2>/dev/null | tail -n 1
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: >"$out/base"
: >"$out/prof"
: >"$out/old"
for _ in $(seq "$rounds"); do
	secs bash -c "$loop" >>"$out/base"
	secs ./rampa-bpf record -q -F 99 -o "$out/p.folded" -- bash -c "$loop" >>"$out/prof"
	[ -n "${BASELINE:-}" ] &&
		secs "$BASELINE" record -q -F 99 -o "$out/o.folded" -- bash -c "$loop" >>"$out/old"
done
./rampa-bpf record -F 99 -o "$out/p.folded" -- bash -c "$loop" 2>&1 | grep -E "code objects|profiler CPU"
b=$(median <"$out/base")
p=$(median <"$out/prof")
printf '| workload | unprofiled (s) | record -F 99 (s) | slowdown |%s\n' "${BASELINE:+ baseline binary (s) | its slowdown |}"
printf '|---|---|---|---|%s\n' "${BASELINE:+---|---|}"
line=$(awk -v b="$b" -v p="$p" -v r="$runs" -v py="$py" 'BEGIN {
	printf "| %d x %s -c \"import email, json, http.client, xml.dom.minidom\" | %.3f | %.3f | %+.2f%% |", r, py, b, p, 100 * (p / b - 1) }')
if [ -n "${BASELINE:-}" ]; then
	o=$(median <"$out/old")
	line+=$(awk -v b="$b" -v o="$o" 'BEGIN { printf " %.3f | %+.2f%% |", o, 100 * (o / b - 1) }')
fi
echo "$line"
