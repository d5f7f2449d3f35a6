#!/usr/bin/env bash
# record -a under process churn: what is kept per process (maps, symbols,
# interpreter state, names) is dropped once the process exits, so memory
# does not grow with every process seen. tools/bench/churn.sh is the long
# version: minutes of churn with RSS sampled.
. "$(dirname "$0")/lib.sh"

require_bpf
PY=/usr/bin/python3.11
[ -x $PY ] || skip_all "needs $PY"

rss_anon_kb() { awk '/^RssAnon:/ { print $2 }' /proc/$1/status; }

test_expect_success '-a: memory per short-lived Python process seen stays small' '
	{ while :; do $PY -c "sum(range(300000))"; done & } && churn=$! && bg_track $churn &&
	{ "$RAMPA" record -a -d 32 -o all.folded 2>err & } && rec=$! && bg_track $rec &&
	sleep 6 && first=$(rss_anon_kb $rec) &&
	sleep 24 && last=$(rss_anon_kb $rec) &&
	kill $churn && wait $rec &&
	procs=$(sed -n "s/.* in \([0-9]*\) processes.*/\1/p" err) &&
	echo "RssAnon ${first} kB at 6 s, ${last} kB at 30 s; $procs processes" &&
	[ "$procs" -ge 300 ] && grep -q " exited)" err &&
	awk -v d=$((last - first)) -v n="$procs" \
		"BEGIN { printf \"%.1f kB per process\\n\", d / n; exit !(d / n < 8) }"
'
test_done
