#!/usr/bin/env bash
# Command line: help, version, and a clear error with a documented exit code
# for every kind of bad input. None of these may leave a file behind.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"

test_expect_success 'rampa-bpf --help lists record and exits 0' '
	"$RAMPA" --help >out && grep -q "record" out && grep -q "usage: rampa-bpf" out
'
test_expect_success 'rampa-bpf --version prints the version' '
	"$RAMPA" --version | grep -Eq "^rampa-bpf [0-9]+\.[0-9]+\.[0-9]+$"
'
test_expect_success 'no command is a usage error (2)' '
	test_expect_code 2 "$RAMPA" 2>err && grep -q usage err
'
test_expect_success 'unknown command is a usage error naming it' '
	test_expect_code 2 "$RAMPA" frobnicate 2>err && grep -q "unknown command .frobnicate." err
'
test_expect_success 'record --help documents every option' '
	"$RAMPA" record --help >out &&
	for o in --pid --all --duration --mode --frequency --per-thread --output --format --quiet \
		--verbose; do
		grep -q -- "$o" out || { echo "missing $o"; exit 1; }
	done
'
test_expect_success 'record with no target says what to give' '
	test_expect_code 2 "$RAMPA" record 2>err && grep -q "nothing to profile: give -p PID" err
'
test_expect_success 'record rejects two kinds of target at once' '
	test_expect_code 2 "$RAMPA" record -a -p 1 2>err && grep -q "only one of" err
'
test_expect_success 'record rejects a bad frequency' '
	test_expect_code 2 "$RAMPA" record -F 0 -p 1 2>err && grep -q "invalid frequency .0." err &&
	test_expect_code 2 "$RAMPA" record -F 99999 -p 1 2>err &&
	test_expect_code 2 "$RAMPA" record -F abc -p 1 2>err
'
test_expect_success 'record rejects a bad duration' '
	test_expect_code 2 "$RAMPA" record -d -5 -p 1 2>err && grep -q "invalid duration" err &&
	test_expect_code 2 "$RAMPA" record -d 3x -p 1 2>err
'
test_expect_success 'record rejects a malformed PID list' '
	test_expect_code 2 "$RAMPA" record -p 12,abc 2>err && grep -q "invalid PID .abc." err
'
test_expect_success 'record on a PID that does not exist exits 4' '
	test_expect_code 2 "$RAMPA" record -p 999999999 2>err ||
	{ test_expect_code 4 "$RAMPA" record -p 4194000 2>err && grep -q "no process with PID" err; }
'
test_expect_success 'record rejects an unknown format' '
	test_expect_code 2 "$RAMPA" record --format xml -p 1 2>err && grep -q "unknown format" err
'
test_expect_success 'record rejects an unknown option' '
	test_expect_code 2 "$RAMPA" record --bogus -p 1 2>err && grep -q "unknown" err
'
test_expect_success 'a missing option value is named' '
	test_expect_code 2 "$RAMPA" record -p 2>err && grep -q "option -p needs a value" err
'
test_expect_success 'top: usage errors name the value and the fix (2)' '
	test_expect_code 2 "$RAMPA" top -b 2>err && grep -q "nothing to profile: give -p PID" err &&
	test_expect_code 2 "$RAMPA" top -b -n 0 -p 1 2>err && grep -q "invalid count .0. for -n" err &&
	test_expect_code 2 "$RAMPA" top -b -i 10ms -p 1 2>err && grep -q "invalid interval .10ms." err &&
	test_expect_code 2 "$RAMPA" top -b -s cpu -p 1 2>err && grep -q "invalid --sort .cpu." err &&
	test_expect_code 2 "$RAMPA" top -b -m gil-wait -p 1 2>err && grep -q "unknown mode .gil-wait." err &&
	test_expect_code 2 "$RAMPA" top -b --tid x -p 1 2>err && grep -q "invalid --tid .x." err &&
	test_expect_code 2 "$RAMPA" top -o x.folded -p 1 2>err && grep -q "unknown option -o" err
'
test_expect_success 'mem: usage errors name the value and the fix (2)' '
	test_expect_code 2 "$RAMPA" mem 2>err && grep -q "mem needs a target: -p PID or -- CMD" err &&
	test_expect_code 2 "$RAMPA" mem -a 2>err && grep -q "mem follows given targets" err &&
	test_expect_code 2 "$RAMPA" mem --max-peak 12Q -p 1 2>err && grep -q "invalid --max-peak .12Q." err &&
	test_expect_code 2 "$RAMPA" mem --max-growth 10M/week -p 1 2>err &&
	grep -q "invalid --max-growth .10M/week." err &&
	test_expect_code 2 "$RAMPA" mem --fault-sample 0 -p 1 2>err && grep -q "invalid --fault-sample .0." err &&
	test_expect_code 2 "$RAMPA" mem -m cpu -p 1 2>err && grep -q "unknown option -m" err
'
test_expect_success 'an unwritable output path fails early (5) and leaves nothing' '
	test_expect_code 5 "$RAMPA" record -o "$TRASH/no/such/dir/x.folded" -p $$ 2>err &&
	grep -q "cannot write output" err && [ ! -e "$TRASH/no" ]
'
test_expect_success 'an output path that is a directory fails (5)' '
	mkdir -p d && test_expect_code 5 "$RAMPA" record -o d -p $$ 2>err && grep -q "is a directory" err
'
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	test_expect_success 'without privileges: exit 3 naming root or CAP_BPF+CAP_PERFMON' '
		(cd /tmp && test_expect_code 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all "$RAMPA" record -o /tmp/rampa-nopriv.folded -p $$ 2>"$TRASH/err") &&
		grep -q "CAP_BPF and CAP_PERFMON" err &&
		[ ! -e /tmp/rampa-nopriv.folded ] && ! ls /tmp/.rampa-nopriv.folded.* 2>/dev/null
	'
fi
test_done
