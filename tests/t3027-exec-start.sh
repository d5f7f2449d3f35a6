#!/usr/bin/env bash
# A command's first samples after exec: its unwind tables come from the disk
# cache before the exec's drain, so native stacks are whole from the start;
# a sample taken before its process had tables keeps its Python frames under
# a marker that says the native frames are unknown, counted in the summary.
# And PLT entries (the linkers' CFA expression), which calls between
# libraries pass through, are walked instead of cutting the stack.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t3027.XXXXXX)
trap 'rm -rf "$WL"; _cleanup' EXIT
gcc -O2 -shared -fPIC -o "$WL/libpltcall.so" "$TESTS_DIR/workloads/plt-call.c" ||
	skip_all "cannot build the workloads with gcc"
cp "$TESTS_DIR/workloads/spin_at_start.py" "$WL/"
export RAMPA_UNWIND_CACHE="$WL/cache"
PY=/usr/bin/python3.11
cd "$TRASH" || exit 1

test_expect_success 'a PLT entry gets the PLT rule: 8 more once past its push (pc & 15 >= 11)' '
	plt=$(readelf -SW "$WL/libpltcall.so" | awk "\$2 == \".plt\" { print \$4 }") &&
	test -n "$plt" &&
	readelf --debug-dump=frames "$WL/libpltcall.so" | grep -q "DW_OP_lit11; DW_OP_ge" &&
	"$TEST_TOOL" unwind-row "$WL/libpltcall.so" $((0x$plt + 0x10)) $((0x$plt + 0x1b)) >rows &&
	cat rows &&
	grep -Eq " kind=5 cfa=8 rbp=11$" rows && ! grep -q "kind=3" rows
'

# The first run fills the cache; the second is a command with its tables
# known, as in everyday use.
"$RAMPA" record -q -F 999 -o warm.folded -- $PY "$WL/spin_at_start.py" 1 2>/dev/null
"$RAMPA" record -F 999 -o first.folded -- $PY "$WL/spin_at_start.py" 3 2>first.err

# weight FILE REGEX: the summed counts of the stacks matching REGEX.
weight() { grep -v '^# ' "$1" | grep -E "$2" | awk '{ t += $NF } END { print t + 0 }'; }

test_expect_success 'every sample in spin() has its Python frames under the whole native stack or a marker' '
	cat first.err &&
	all=$(weight first.folded ";spin \\([^;]*spin_at_start.py:[0-9]+\\)") &&
	whole=$(weight first.folded "^python3.11;_start;.*;<module> \\([^;]*spin_at_start.py:[0-9]+\\);spin \\(") &&
	marked=$(weight first.folded "^python3.11;\\[native frames unknown: [^]]*\\];<module> \\([^;]*spin_at_start.py:[0-9]+\\);spin \\(") &&
	echo "spin(): $all samples, $whole with the whole native stack, $marked marked" &&
	test "$all" -gt 0 && test $((whole + marked)) -eq "$all" &&
	awk -v w="$whole" -v a="$all" "BEGIN { exit !(w >= 0.8 * a) }"
'
test_expect_success 'no [unknown]-rooted stack under the Python frames of the script' '
	! grep -v "^# " first.folded | grep -E "\\[unknown\\].*spin_at_start.py|spin_at_start.py.*\\[unknown\\]"
'
test_expect_success 'the summary counts the samples walked before the tables came, as the marker weighs' '
	n=$(weight first.folded "^python3.11;\\[native frames unknown: no unwind tables yet\\]") &&
	echo "no tables yet: $n samples" &&
	if [ "$n" -gt 0 ]; then
		grep -Eq "^    native stacks not walked: no unwind tables yet +$n$" first.err
	else
		! grep -q "no unwind tables yet" first.err
	fi
'
test_done
