#!/usr/bin/env bash
# record -a under process churn, for minutes: short-lived Python processes
# started back to back while rampa-bpf profiles the whole machine; its RSS
# sampled every INTERVAL seconds, as a markdown table. Flat is right: what
# is kept per process is dropped when it exits.
#
# With CHURN_TARGET=cmd the loop itself is the target (record -- sh -c
# LOOP, children followed): the same churn without the other processes of
# the machine, whose new stacks and files make -a's profile grow too.
#
#   [CHURN_TARGET=cmd] tools/bench/churn.sh [SECONDS] [INTERVAL] [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-180}
step=${2:-15}
py=${3:-/usr/bin/python3.11}
[ "$(id -u)" -eq 0 ] || { echo "churn.sh: run as root" >&2; exit 1; }
make -s all
out=$(mktemp -d /tmp/rampa-bench.XXXXXX)
churn=
trap '[ -z "$churn" ] || kill $churn 2>/dev/null; rm -rf "$out"' EXIT

loop="while :; do $py -c 'sum(range(300000))'; done"
if [ "${CHURN_TARGET:-all}" = cmd ]; then
	./rampa-bpf record -d "$secs" -o "$out/all.folded" -- sh -c "$loop" 2>"$out/err" &
else
	sh -c "$loop" &
	churn=$!
	./rampa-bpf record -a -d "$secs" -o "$out/all.folded" 2>"$out/err" &
fi
rec=$!
echo "| seconds | RSS (kB) | RssAnon (kB) |"
echo "|---:|---:|---:|"
for t in $(seq "$step" "$step" $((secs - 1))); do
	sleep "$step"
	kill -0 $rec 2>/dev/null || break
	printf '| %s | %s | %s |\n' "$t" "$(awk '/^VmRSS:/ { print $2 }' /proc/$rec/status)" \
		"$(awk '/^RssAnon:/ { print $2 }' /proc/$rec/status)"
done
wait $rec || true # -- CMD: the status of CMD, stopped by -d
echo
grep -E "^  (threads|stacks) |^    code objects " "$out/err"
