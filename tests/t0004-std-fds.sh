#!/usr/bin/env bash
# Standard descriptors: started with one closed, no output file takes its
# place, and what was meant for it is a reported failure, not silence.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"

printf 'main;work 5\n' >"$TRASH/in.folded"

test_expect_success 'stdout closed: --version fails with exit 5' '
	test_expect_code 5 "$RAMPA" --version >&- 2>err &&
	grep -q "cannot write to standard output: it was closed" err
'
test_expect_success 'stdout full: report --top fails with exit 5' '
	test_expect_code 5 "$RAMPA" report in.folded --top 3 >/dev/full 2>err &&
	grep -q "cannot write to standard output" err
'
test_expect_success 'stderr closed: the summary does not land in the output file' '
	test_expect_code 5 "$RAMPA" report in.folded -o out.folded 2>&- &&
	! grep -q "wrote" out.folded && grep -q "^main;work 5$" out.folded
'
test_expect_success 'stderr closed with nothing to say: exit 0' '
	"$RAMPA" report in.folded -q -o q.folded 2>&- && grep -q "^main;work 5$" q.folded
'
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	test_expect_success 'record with stderr closed: clean output file, exit 5' '
		test_expect_code 5 "$RAMPA" record -o rec.folded -- true 2>&- &&
		! grep -v "^# rampa-bpf" rec.folded | grep -q "rampa-bpf"
	'
	test_expect_success 'gil-wait with stdout closed does not lose its table silently' '
		test_expect_code 5 "$RAMPA" gil-wait -q -o gil.folded -- python3 -c "pass" >&- 2>err &&
		grep -q "cannot write to standard output" err
	'
elif [ "${CI:-}" = true ]; then
	test_expect_success 'record and gil-wait checks need root and BPF in CI' 'false'
fi
test_done
