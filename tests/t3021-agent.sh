#!/usr/bin/env bash
# rampa-bpf agent: continuous whole-machine capture cut into windows, the
# local store, and pushes to a loopback Pyroscope ingest receiver
# (ingest-receiver.py) whose bodies go tool pprof decodes: labels, the busy
# function of split.py (alpha 75%, beta 25% of CPU by construction), an
# outage then recovery, a restart with a queue, SIGHUP, retention, the
# systemd unit.
. "$(dirname "$0")/lib.sh"

require_bpf
command -v go >/dev/null || skip_all "needs go tool pprof (tools/install-deps.sh --test)"
export HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local
pprof() { go tool pprof "$@" 2>&1; }
W="$TESTS_DIR/workloads"
cd "$TRASH" || exit 1
HOST=$(hostname)

# receiver NAME: a loopback ingest receiver recording into NAME/.
receiver() {
	# Not "mkdir && python3 &": that backgrounds a subshell, and killing it
	# would leave the receiver holding prove's pipe.
	mkdir -p "$1" || exit 1
	python3 "$TESTS_DIR/ingest-receiver.py" "$TRASH/$1" >"$TRASH/$1.out" 2>&1 &
	bg_track $!
	wait_for test -s "$1/port" || { echo "receiver $1 did not start"; exit 1; }
}
url() { echo "http://127.0.0.1:$(cat "$1/port")"; }
# received DIR: one line per window taken, in arrival order:
# "SERVICE PID FROM UNTIL NAME TENANT AUTH QUERY..."
received() {
	python3 - "$1" <<-\EOF
	import json, os, re, sys
	d = sys.argv[1]
	for f in sorted(x for x in os.listdir(d) if x.endswith(".json")):
	    r = json.load(open(os.path.join(d, f)))
	    q, h = r["query"], r["headers"]
	    m = re.fullmatch(r"([^.{]+)\.cpu\{(.*)\}", q["name"])
	    labels = dict(kv.split("=", 1) for kv in m.group(2).split(",")) if m else {}
	    print(f[:4], m.group(1) if m else "?", labels.get("pid", "?"), q["from"], q["until"],
	          q["name"], h.get("x-scope-orgid", "-"), h.get("authorization", "-"),
	          "&".join("%s=%s" % kv for kv in sorted(q.items()) if kv[0] != "name"))
	EOF
}
nreceived() { ls "$1" | grep -c '\.json$'; }
# windows STORE SERVICE: the window files of a service in the store.
windows() { find "$1/windows/$2" -name "*.folded" 2>/dev/null | sort; }
status_field() { sed -n "s/^$2: \([0-9]*\).*/\1/p" "$1/status" 2>/dev/null; }
# cut_at_least STORE N: the agent of STORE has cut N windows.
cut_at_least() { [ "$(status_field "$1" "windows cut")" -ge "$2" ] 2>/dev/null; }

# A copy of its own: --match selects this script's workloads, not those of
# other tests running meanwhile.
cp "$W/split.py" split.py || exit 1
python3 "$TRASH/split.py" 900 >/dev/null &
SPLIT=$!
bg_track $SPLIT
OTEL_SERVICE_NAME=checkout python3 "$TRASH/split.py" 900 >/dev/null &
CHECKOUT=$!
bg_track $CHECKOUT
for r in ra rb rc rd; do receiver $r; done
printf 'agent:s3cret-pw\n' >auth
MATCH="$TRASH/split\.py"

test_expect_success 'the receiver keeps the ingest contract: name, from, until, pprof' '
	python3 - "$(url ra)" <<-\EOF
	import sys, urllib.request, urllib.error
	def code(q, body=b"x"):
	    try:
	        return urllib.request.urlopen(urllib.request.Request(
	            sys.argv[1] + "/ingest?" + q, data=body, method="POST")).status
	    except urllib.error.HTTPError as e:
	        return e.code
	assert code("from=1&until=2&format=pprof") == 400
	assert code("name=a.cpu&until=2&format=pprof") == 400
	assert code("name=a.cpu&from=1&format=pprof") == 400
	assert code("name=a.cpu&from=1&until=2&format=folded") == 400
	EOF
	[ "$(nreceived ra)" = 0 ]
'

test_expect_success 'agent pushes labelled pprof windows and keeps them in the store' '
	"$RAMPA" agent -F 99 -i 1 --store s1 --server "$(url ra)" --tenant team-a \
		--basic-auth-file auth --match "$MATCH" >log 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(ls ra | grep -c json) -ge 8 ]" &&
	wait_for sh -c "[ \$(ls ra | grep -c json) -ge 12 ]" || true
	kill -TERM $pid && wait $pid && cat log &&
	received ra >got && cat got && [ $(wc -l <got) -ge 8 ]
'
test_expect_success 'windows are named by service: script name, OTEL_SERVICE_NAME' '
	grep -q " split $SPLIT " got && grep -q " checkout $CHECKOUT " got &&
	! grep -vE " (split $SPLIT|checkout $CHECKOUT) " got
'
test_expect_success 'labels: service_name, hostname, pid, python_version; the query' '
	grep -E "split\.cpu\{service_name=split,hostname=$HOST,pid=$SPLIT,python_version=3\.[0-9]+\}" got &&
	grep -E "checkout\.cpu\{service_name=checkout,hostname=$HOST,pid=$CHECKOUT,python_version=3\.[0-9]+\}" got &&
	! grep -v "aggregationType=sum&format=pprof&from=[0-9]*&sampleRate=99&spyName=rampa-bpf&units=samples&until=[0-9]*$" got &&
	awk "{ if (\$4 > \$5) exit 1 }" got
'
test_expect_success 'tenant header and basic auth sent; the secret never in logs or argv' '
	! grep -v " team-a Basic $(printf agent:s3cret-pw | base64) " got &&
	! grep -q s3cret log && ! grep -rq s3cret s1/status
'
test_expect_success 'go tool pprof decodes every body: the busy function and the pid' '
	for b in ra/*.pb.gz; do pprof -top "$b" >top || { cat top; exit 1; }; done &&
	pprof -top -cum $(grep -lE "pid=$SPLIT[,}]" ra/*.json | sed "s/json$/pb.gz/") >top && cat top &&
	grep -q "^Type: samples" top &&
	a=$(awk "\$NF == \"alpha\" { print \$4 }" top) && b=$(awk "\$NF == \"beta\" { print \$4 }" top) &&
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt "$b" ] &&
	f=$(ls ra/*.pb.gz | head -1) && pprof -tags "$f" >tags && cat tags &&
	grep -Eq ": ($SPLIT|$CHECKOUT)$" tags
'
test_expect_success 'every window stored was pushed, the last one flushed at SIGTERM' '
	[ $(windows s1 split | wc -l) = $(grep -c " split " got) ] &&
	[ $(windows s1 checkout | wc -l) = $(grep -c " checkout " got) ] &&
	grep -q "^state: stopped" s1/status && grep -q "^windows queued: 0" s1/status
'
test_expect_success 'report STORE merges the windows: alpha 3 times beta' '
	"$RAMPA" report -q s1 --service split --from -10m --to now -o split.folded &&
	head -1 split.folded && grep -q "groups process" split.folded &&
	a=$(share split.folded ";alpha \\(") && b=$(share split.folded ";beta \\(") &&
	within "$(echo "$a $b" | awk "{ print 100 * \$1 / (\$1 + \$2) }")" 75 8
'
test_expect_success 'agent --status tells what was sent, stored, and the agent cost' '
	"$RAMPA" agent --status --store s1 >st && cat st &&
	grep -q "^windows sent: [1-9]" st && grep -q "^windows dropped: 0" st &&
	grep -Eq "^agent cpu: .*% of one core" st && grep -Eq "^agent rss: [0-9]+ kB" st &&
	grep -q "is not running" st &&
	# The store size is the windows on disk (it was updated at the prunes
	# only, once a minute).
	on_disk=$(find s1/windows -type f -name "*.folded" -printf "%s\n" | awk "{ s += \$1 } END { print s + 0 }") &&
	echo "on disk: $on_disk" && grep -q "^store size: $on_disk bytes" st &&
	# What was profiled since the start: the last window (cut at SIGTERM)
	# holds only what its few moments sampled.
	sed -n "/^profiled since the start/,\$p" st >seen &&
	grep -q "^  split cpu pid $SPLIT python 3\.[0-9]*: [1-9][0-9]* windows*, last until " seen &&
	grep -q "^  checkout cpu pid $CHECKOUT python 3\.[0-9]*: [1-9][0-9]* windows*, last until " seen
'

test_expect_success 'server down for several windows, then back: all delivered, in order' '
	"$RAMPA" agent -i 1 --retry-max 1 --store s2 --server "$(url rb)" --match "$MATCH" \
		>log2 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(ls rb | grep -c json) -ge 2 ]" &&
	touch rb/down &&
	wait_for sh -c "[ \$(sed -n \"s/^windows queued: \([0-9]*\).*/\1/p\" s2/status) -ge 6 ]" &&
	n=$(nreceived rb) && rm rb/down &&
	wait_for sh -c "[ \$(ls rb | grep -c json) -ge $((n + 6)) ]" &&
	kill -TERM $pid && wait $pid && cat log2 &&
	received rb >got2 && cat got2 &&
	[ $(windows s2 split | wc -l) = $(grep -c " split " got2) ] &&
	[ $(windows s2 checkout | wc -l) = $(grep -c " checkout " got2) ] &&
	for s in split checkout; do
		grep " $s " got2 | awk "{ if (\$4 < last) exit 1; last = \$4 }" || exit 1
	done &&
	[ $(grep -c "cannot send" log2) = 1 ] && [ $(grep -c "answers again" log2) = 1 ] &&
	grep -q "^windows dropped: 0" s2/status && grep -Eq "^push failures: [1-9]" s2/status
'

test_expect_success 'a restarted agent sends what its previous run queued, first' '
	touch rc/down || exit 1
	"$RAMPA" agent -i 1 --store s3 --server "$(url rc)" --match "$MATCH" >log3 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(ls s3/queue 2>/dev/null | grep -c ingest$) -ge 4 ]" &&
	kill -TERM $pid && wait $pid && cat log3 &&
	grep -q "stay queued" log3 && queued=$(ls s3/queue | grep -c "ingest$") &&
	last=$(sed -n 1p s3/queue/$(ls s3/queue | grep ingest$ | tail -1) |
		sed "s/.*&from=\([0-9]*\).*/\1/") &&
	rm rc/down || exit 1
	"$RAMPA" agent -i 1 --store s3 --server "$(url rc)" --match "$MATCH" >log3b 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(ls rc | grep -c json) -ge $((queued + 2)) ]" &&
	kill -TERM $pid && wait $pid && cat log3b &&
	grep -q "$queued windows queued by a previous run" log3b &&
	received rc >got3 && cat got3 &&
	head -$queued got3 | awk -v l=$last "{ if (\$4 > l) exit 1 }" &&
	[ $(windows s3 split | wc -l) = $(grep -c " split " got3) ]
'

test_expect_success 'SIGHUP reloads --config: a server added starts the pushes' '
	printf "%s\n" "# the agent of this test" "upload-interval 1" "store=s4" \
		"--match $MATCH" >agent.conf || exit 1
	"$RAMPA" agent --config agent.conf >log4 2>&1 &
	pid=$! &&
	wait_for sh -c "[ \$(find s4/windows -name \"*.folded\" | wc -l) -ge 2 ]" &&
	[ "$(nreceived rd)" = 0 ] &&
	echo "server $(url rd)" >>agent.conf && kill -HUP $pid &&
	wait_for sh -c "[ \$(ls rd | grep -c json) -ge 2 ]" &&
	kill -TERM $pid && wait $pid && cat log4 && grep -q "reloaded" log4 &&
	grep -q "upload interval: 1 s" s4/status
'

test_expect_success 'retention: by age, then by size, counted in the status' '
	mkdir -p s5/windows/old/cpu &&
	echo "a;b 1" >s5/windows/old/cpu/20200101T000000.000Z_20200101T000010.000Z_1.folded ||
		exit 1
	"$RAMPA" agent -i 1 --store s5 --retention-age 1d --retention-size 6K \
		--match "$MATCH" >log5 2>&1 &
	pid=$! &&
	wait_for cut_at_least s5 5 &&
	kill -TERM $pid && wait $pid && cat s5/status &&
	[ ! -e s5/windows/old/cpu/20200101T000000.000Z_20200101T000010.000Z_1.folded ] &&
	size=$(find s5/windows -name "*.folded" -printf "%s\n" | awk "{ t += \$1 } END { print t }") &&
	[ "$size" -le 6144 ] && [ "$size" -gt 0 ] &&
	[ "$(status_field s5 "windows removed by retention")" -ge 2 ]
'

test_expect_success 'configuration errors at start: exit 2, one line, before profiling' '
	test_expect_code 2 "$RAMPA" agent --server "$(url ra)" --basic-auth-file nope --store s6 2>err &&
	grep -q "cannot read basic auth file" err &&
	test_expect_code 2 "$RAMPA" agent --server ftp://x --store s6 2>err &&
	grep -q "invalid --server" err &&
	test_expect_code 2 "$RAMPA" agent --modes cpu,nope 2>err && grep -q "unknown mode .nope." err &&
	test_expect_code 2 "$RAMPA" agent --match "(" 2>err && grep -q "invalid --match" err &&
	echo "frequnecy 19" >bad.conf &&
	test_expect_code 2 "$RAMPA" agent --config bad.conf 2>err && grep -q "bad.conf" err &&
	test_expect_code 2 "$RAMPA" agent --config missing.conf 2>err
'

test_expect_success 'the systemd unit passes systemd-analyze verify (and a broken one fails)' '
	command -v systemd-analyze >/dev/null || { [ "$CI" != true ] && exit 0; exit 1; }
	sed "s|/usr/local/bin/rampa-bpf|$RAMPA|" "$ROOT_DIR/tools/rampa-bpf-agent.service" \
		>rampa-bpf-agent.service &&
	systemd-analyze verify --man=no ./rampa-bpf-agent.service &&
	sed "s|^ExecStart=[^ ]*|ExecStart=/nonexistent/rampa-bpf|" rampa-bpf-agent.service >bad.service &&
	! systemd-analyze verify --man=no ./bad.service 2>/dev/null
'
test_done
