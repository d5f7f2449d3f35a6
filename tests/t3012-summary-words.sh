#!/usr/bin/env bash
# Summaries in words a user knows: no internal jargon, a rate only where
# there is sampling, counts that are not losses kept out of "losses", and
# gil-wait's JSON saying null (not "") where the place is unknown.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t3012.XXXXXX)
cp "$TESTS_DIR/workloads/split.py" "$TESTS_DIR/workloads/gil.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
PY=/usr/bin/python3.11
cd "$TRASH" || exit 1

"$RAMPA" record -o cpu.folded -- $PY "$WL/split.py" 1 2>cpu.err
"$RAMPA" record --mode offcpu -o off.folded -- $PY "$WL/split.py" 1 --sleep 2>off.err

test_expect_success 'Debian python3.11 (no frame pointers): how C frames were placed, in plain words' '
	cat cpu.err && ! grep -q "native leaf only\|no usable native walk" cpu.err &&
	grep -Eq "^    native frames spliced at the eval loop +[0-9]+$" cpu.err &&
	grep -Eq "^  unwinding     [0-9]+ stacks walked by CFI" cpu.err
'
test_expect_success 'losses hold only what is lost; file+offset names are not losses' '
	# The loss rows: indented under "losses", up to the next summary line.
	awk "/^  losses\$/ { on = 1; next } on && /^  [a-z]/ { on = 0 } on" cpu.err >losses &&
	! grep -q "symbol\|unreadable files" losses &&
	! grep -q "frames without a symbol" cpu.err &&
	{ ! grep -q "^  names " cpu.err ||
		grep -Eq "^  names         [0-9]+ native (frames?|code address(es)?) named file\+offset \((the file has no symbols|no symbol covers them|the file could not be read)" cpu.err; }
'
test_expect_success 'off-CPU time is measured, not sampled: no rate on the first line' '
	head -1 off.err | grep -q "^rampa-bpf: profiling .* (offcpu mode);" &&
	! head -1 off.err | grep -q "Hz" && head -1 cpu.err | grep -q "(cpu mode, 99 Hz)"
'
test_expect_success 'gil-wait JSON: where is a place or null, handoffs flagged' '
	"$RAMPA" gil-wait --json -o g.folded -- $PY "$WL/gil.py" workers 3 1 >g.json 2>g.err &&
	python3 - g.json <<-\PY
	import json, sys
	n = 0
	for p in json.load(open(sys.argv[1]))["processes"]:
	    for t in p["threads"]:
	        for b in t["behind"]:
	            n += 1
	            assert b["where"] is None or b["where"], b
	            assert isinstance(b["handoff"], bool), b
	            assert not b["handoff"] or (b["holder_tid"] == 0 and b["where"] is None), b
	assert n > 0
	PY
'
test_expect_success 'gil-wait table: handoffs in words, no "waiting for the GIL being handed over"' '
	"$RAMPA" gil-wait -o g2.folded -- $PY "$WL/gil.py" workers 3 1 >g.txt 2>/dev/null &&
	! grep -q "handed over" g.txt && grep -q "behind thread [0-9]* in burn" g.txt &&
	# in us, ms or s as fits, not "0.000 s"
	! grep -q " 0.000 s of it" g.txt && grep -Eq "^ +[0-9.]+ (us|ms|s) of it behind thread" g.txt
'
test_expect_success "the README's record example is what the tool prints (numbers aside)" '
	awk "/^\\$ sudo rampa-bpf record -F 99 -o split.folded/ { on = 1; next } on && /^\\\`\\\`\\\`/ { exit } on" \
		"$ROOT_DIR/README.md" >readme.out && [ -s readme.out ] &&
	(cd "$ROOT_DIR" && "$RAMPA" record -F 99 -o "$TRASH/split.folded" -- /usr/bin/python3 \
		tests/workloads/split.py 1) 2>&1 | sed "s|$TRASH/||g" >real.out &&
	norm() { sed -E "s/[0-9]+(\.[0-9]+)?/N/g; s/ +/ /g" "$1"; } &&
	norm readme.out >r && norm real.out >g &&
	for k in "^rampa-bpf: profiling" "^ mode " "^ python " "^rampa-bpf: wrote" "^rampa-bpf: view it"; do
		diff <(grep "$k" r) <(grep "$k" g) || { echo "differs: $k"; exit 1; }
	done
'
test_expect_success 'record --short-paths --no-lines on a program under a long path' '
	deep="$WL/home/someone/work/projects/customer-portal/backend/services" &&
	mkdir -p "$deep" && cp "$WL/split.py" "$deep/" &&
	"$RAMPA" record -q --short-paths --no-lines -o deep.folded -- $PY "$deep/split.py" 1 &&
	grep -q ";cycle (split.py);alpha (split.py);spin (split.py) [0-9]*$" deep.folded &&
	! grep -q "$deep\|split.py:[0-9]" deep.folded &&
	[ "$(grep -c ";alpha (split.py);spin (split.py) " deep.folded)" -eq 1 ]
'
test_done
