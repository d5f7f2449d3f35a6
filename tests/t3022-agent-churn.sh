#!/usr/bin/env bash
# rampa-bpf agent under process churn, kept short (tools/bench/agent.sh is
# the long run): short-lived Python processes of one service come and go;
# their windows hold only their stacks (no PID mislabelled), and the agent
# forgets each process once it exited.
. "$(dirname "$0")/lib.sh"

require_bpf
cd "$TRASH" || exit 1
cat >churn.py <<\EOF
import sys, time
end = time.thread_time() + float(sys.argv[1])
while time.thread_time() < end:
    sum(range(1000))
EOF

test_expect_success 'churn: windows of the service hold only its processes; caches evicted' '
	"$RAMPA" agent -F 99 -i 2 --store st --match "$TRASH/churn\\.py" >log 2>&1 &
	agent=$!
	wait_for test -s st/status || exit 1
	for i in $(seq 80); do
		# Through a shell that execs python, as the shims of pyenv do: the
		# process is matched first as sh, then must be read again as python.
		OTEL_SERVICE_NAME=churn sh -c "exec /usr/bin/python3.11 \"\$@\"" sh \
			"$TRASH/churn.py" 0.15 &
		echo $! >>pids; wait $!
	done
	sleep 3 && kill -TERM $agent && wait $agent && cat st/status &&
	live=$(ls /proc | grep -c "^[0-9]") &&
	"$RAMPA" report -q st --service churn -o churn.folded &&
	[ "$(total churn.folded)" -gt 100 ] &&
	grep -v "^#" churn.folded | cut -d";" -f2 | sed "s/.*-//" | sort -u >seen &&
	echo "processes seen: $(wc -l <seen) of 80" && [ $(wc -l <seen) -ge 60 ] &&
	sort -u pids >all && comm -23 seen all >strangers && [ ! -s strangers ] &&
	[ "$(sed -n "s/^processes known: \([0-9]*\).*/\1/p" st/status)" -le "$live" ] &&
	[ "$(sed -n "s/^processes known: .*forgotten at exit: \([0-9]*\).*/\1/p" st/status)" -ge 20 ]
'
test_done
