#!/usr/bin/env bash
# report STORE-DIR: the agent's local store (src/store.c) read back. Windows
# of known content at known times; --service, --from and --to pick them, whole.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"

# win SERVICE MODE FROM UNTIL PID "STACK COUNT": one window file.
win() {
	mkdir -p "st/windows/$1/$2" &&
	{ echo "# rampa-bpf: target \"service $1, pid $5\", mode $2, unit samples, duration 10.000 s, rate 19 Hz, window attach, groups process"
	  echo "$6"; } >"st/windows/$1/$2/$3_$4_$5.folded"
}
cd "$TRASH" || exit 1
win api cpu 20260101T000000.000Z 20260101T000010.000Z 10 "python3;python3-10;handle (api.py:3) 5"
win api cpu 20260101T000010.000Z 20260101T000020.000Z 10 "python3;python3-10;handle (api.py:3) 7"
win api cpu 20260101T000010.000Z 20260101T000020.000Z 11 "python3;python3-11;other (api.py:9) 2"
win api cpu 20260101T010000.000Z 20260101T010010.000Z 10 "python3;python3-10;late (api.py:20) 100"
win jobs cpu 20260101T000000.000Z 20260101T000010.000Z 20 "python3;python3-20;work (jobs.py:1) 30"

test_expect_success 'a time range merges the windows that overlap it, whole' '
	"$RAMPA" report -q st --service api --from 2026-01-01T00:00:00Z --to 2026-01-01T00:00:15Z \
		-o out.folded &&
	[ "$(total out.folded)" = 14 ] && grep -q "^python3;python3-11;other (api.py:9) 2$" out.folded &&
	! grep -q late out.folded &&
	grep -q "target \"api, 3 windows\", mode cpu, unit samples, duration 20.000 s" out.folded
'
test_expect_success 'the range is inclusive; a window outside it is left out' '
	"$RAMPA" report -q st --service api --from "2026-01-01 00:00" --to 2026-01-01T00:00:05 \
		-o out.folded &&
	[ "$(total out.folded)" = 5 ] &&
	"$RAMPA" report -q st --service api --from 2026-01-01T00:30:00Z -o out.folded &&
	[ "$(total out.folded)" = 100 ]
'
test_expect_success 'without --service every service; any output format' '
	"$RAMPA" report -q st --from 2026-01-01T00:00:00Z --to 2026-01-01T00:00:05Z -o all.folded &&
	[ "$(total all.folded)" = 35 ] &&
	"$RAMPA" report -q st --service jobs -o jobs.svg && grep -q "<svg" jobs.svg &&
	"$RAMPA" report st --service api --top 3 >top 2>err && cat top err &&
	grep -q "merged 4 windows from 20260101T000000.000Z to 20260101T010010.000Z" err &&
	grep -Eq "100 +87.72%.*late" top
'
test_expect_success 'relative times count back from now' '
	now=$(date -u +%Y%m%dT%H%M%S) &&
	win api cpu "$now.000Z" "$now.500Z" 12 "python3;python3-12;fresh (api.py:30) 3" &&
	"$RAMPA" report -q st --service api --from -5m -o out.folded && [ "$(total out.folded)" = 3 ] &&
	test_expect_code 6 "$RAMPA" report -q st --service api --from -5m --to -4m -o out.folded
'
test_expect_success 'errors: unknown service, bad time, range reversed, --from on a file' '
	test_expect_code 2 "$RAMPA" report st --service nope 2>err &&
	grep -q "no service .nope. in store .st. (services there: " err &&
	test_expect_code 2 "$RAMPA" report st --from yesterday 2>err && grep -q "invalid time" err &&
	test_expect_code 2 "$RAMPA" report st --from -1m --to -2m 2>err &&
	test_expect_code 2 "$RAMPA" report out.folded --service api 2>err && grep -q "not one" err
'
# Windows of one service sampled at 100 Hz, then at 10 Hz (the agent
# reloaded with another -F): 1 s of f, then 1 s of g. Added as they are, f
# would weigh ten times g; merged as CPU time they weigh the same.
mkdir -p rates/windows/svc/cpu
{ echo "# rampa-bpf: target \"service svc, pid 5\", mode cpu, unit samples, duration 1.000 s, rate 100 Hz, window attach, groups process"
  echo "python3;python3-5;f (svc.py:1) 100"; } >rates/windows/svc/cpu/20260101T000000.000Z_20260101T000001.000Z_5.folded
{ echo "# rampa-bpf: target \"service svc, pid 5\", mode cpu, unit samples, duration 1.000 s, rate 10 Hz, window attach, groups process"
  echo "python3;python3-5;g (svc.py:2) 10"; } >rates/windows/svc/cpu/20260101T000001.000Z_20260101T000002.000Z_5.folded
test_expect_success 'windows sampled at different rates merge as CPU time, each sample its period' '
	"$RAMPA" report rates --service svc -o rates.folded 2>err && cat err rates.folded &&
	grep -q "^python3;python3-5;f (svc.py:1) 1000000$" rates.folded &&
	grep -q "^python3;python3-5;g (svc.py:2) 1000000$" rates.folded &&
	grep -q "sampled at 10 to 100 Hz, as CPU time\", mode cpu, unit microseconds" rates.folded &&
	grep -q "warning: the windows were sampled at different rates (10 to 100 Hz)" err
'
test_expect_success 'several modes in a store: --mode picks one' '
	win api wall 20260101T000000.000Z 20260101T000010.000Z 10 "python3;python3-10;io (api.py:5) 9" &&
	test_expect_code 2 "$RAMPA" report st --service api 2>err && grep -q "give --mode" err &&
	"$RAMPA" report -q st --service api --mode wall -o w.folded && [ "$(total w.folded)" = 9 ]
'
test_expect_success 'a service named beyond ASCII is found by the name it was given' '
	win "svc-%CE%B1" cpu 20260101T000000.000Z 20260101T000010.000Z 30 "python3;python3-30;f (a.py:1) 4" &&
	"$RAMPA" report -q st --service "svc-α" -o alpha.folded && [ "$(total alpha.folded)" = 4 ]
'

test_expect_success 'names that differ only beyond [A-Za-z0-9_.-] are stored apart, and named back' '
	win "svc-%CE%B2" cpu 20260101T000000.000Z 20260101T000010.000Z 31 "python3;python3-31;g (b.py:1) 6" &&
	win "svc_%CE%B1" cpu 20260101T000000.000Z 20260101T000010.000Z 32 "python3;python3-32;h (c.py:1) 8" &&
	win "a%2Fb" cpu 20260101T000000.000Z 20260101T000010.000Z 33 "python3;python3-33;i (d.py:1) 9" &&
	win "a_b" cpu 20260101T000000.000Z 20260101T000010.000Z 34 "python3;python3-34;j (e.py:1) 10" &&
	"$RAMPA" report -q st --service "svc-β" -o beta.folded && [ "$(total beta.folded)" = 6 ] &&
	"$RAMPA" report -q st --service "svc-α" -o alpha.folded && [ "$(total alpha.folded)" = 4 ] &&
	"$RAMPA" report -q st --service "svc_α" -o alpha2.folded && [ "$(total alpha2.folded)" = 8 ] &&
	"$RAMPA" report -q st --service "a/b" -o ab.folded && [ "$(total ab.folded)" = 9 ] &&
	"$RAMPA" report -q st --service "a_b" -o ab2.folded && [ "$(total ab2.folded)" = 10 ] &&
	test_expect_code 2 "$RAMPA" report st --service "svc-γ" 2>err &&
	grep -q "svc-β" err && grep -q "a/b" err
'

test_expect_success 'the agent stores a name beyond ASCII one to one (test-tool safe-name)' '
	"$TEST_TOOL" safe-name "svc-α" >out && echo "svc-%CE%B1" >expect && test_cmp expect out &&
	"$TEST_TOOL" safe-name ".hidden%" >out && echo "%2Ehidden%25" >expect && test_cmp expect out &&
	long=$(printf "α%.0s" $(seq 120)) &&
	"$TEST_TOOL" safe-name "$long" >out1 && "$TEST_TOOL" safe-name "${long}x" >out2 &&
	! test_cmp out1 out2 && [ $(head -1 out1 | wc -c) -le 256 ] && head -1 out1 | grep -q "~"
'
test_done
