#!/usr/bin/env bash
# CPython's layouts and line tables, without root or a live interpreter:
# the tables compiled in (src/cpython_layouts.c) print as their fixtures,
# which are what tools/cpython-layouts/gen.sh derives from each version's
# headers (checked here where those headers are installed); and the
# line-table decoders (python__line) give, for every bytecode offset of a
# function compiled by each version, the line that version's own
# PyCode_Addr2Line gave (tests/fixtures/lines/gen.py made the fixtures),
# plus hand-made tables for the corners a small function does not reach.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"
FIX=$TESTS_DIR/fixtures
GEN=$TESTS_DIR/../tools/cpython-layouts/gen.sh

for v in 3.9 3.10 3.11 3.12 3.13 3.14 3.15; do
	test_expect_success "$v: the compiled tables are the fixture's" "
		\"\$TEST_TOOL\" layouts $v >actual &&
		test_cmp \"$FIX/layouts/$v.txt\" actual
	"
done

test_expect_success 'no table for a version rampa-bpf does not walk' '
	test_expect_code 1 "$TEST_TOOL" layouts 3.8 2>err &&
	grep "no table for 3.8" err &&
	test_expect_code 1 "$TEST_TOOL" layouts 3.16 2>err
'

# Where pyenv has the headers of a version, they give the fixture again
# (gen.sh takes the newest patch release, as here).
for v in 3.9 3.10 3.11 3.12 3.13; do
	# shellcheck disable=SC2012 # version directories: plain names
	inc=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v".*/include 2>/dev/null | sort -V |
		tail -n 1)
	if [ -z "$inc" ] || ! command -v "${CC:-cc}" >/dev/null; then
		echo "# no pyenv $v headers (or no compiler): gen.sh not checked for $v"
		continue
	fi
	test_expect_success "$v: gen.sh on the headers of $(basename "$(dirname "$inc")") gives the fixture" "
		\"$GEN\" --check $v >out &&
		grep 'agree with' out
	"
done

# line_fixture 3.X: every offset of the fixture's function.
# shellcheck disable=SC2046 # the table's arguments and offsets: one a word
line_fixture() {
	local f=$FIX/lines/$1.txt
	# args MINOR FIRSTLINENO HEX LEN: the code is LEN bytes
	set -- $(sed -n 's/^args //p' "$f")
	grep -v -e '^#' -e '^args ' "$f" >expected &&
		"$TEST_TOOL" py-line "$1" "$2" "$3" $(seq -2 2 $(($4 - 2))) >actual &&
		test_cmp expected actual
}

for v in 3.9 3.10 3.11 3.12 3.13 3.14 3.15; do
	test_expect_success "$v: lines of every offset as CPython $v gives them" "
		line_fixture $v
	"
done

test_expect_success 'the fixtures reach what they are meant to' '
	# negative line deltas (the loop), and offsets with no line (3.11+)
	grep -q "^args 9 1 .*ff" "$FIX/lines/3.9.txt" &&
	for v in 3.11 3.12 3.13 3.14 3.15; do
		grep -q " -1$" "$FIX/lines/$v.txt" || return 1
	done
'

# 3.9 co_lnotab, first line 50: +6 bytes +1 line, a 255-byte step with no
# line change, +1 byte +2 lines, +4 bytes -3 lines.
test_expect_success '3.9 by hand: steps of over 255 bytes, negative line deltas' '
	"$TEST_TOOL" py-line 9 50 0601ff00010204fd -2 0 4 6 260 261 262 264 266 300 >actual &&
	cat >expected <<-\END &&
	-2 50
	0 50
	4 50
	6 51
	260 51
	261 51
	262 53
	264 53
	266 50
	300 50
	END
	test_cmp expected actual
'

# 3.10 co_linetable, first line 10: (0, +5) an empty range whose delta
# counts, (2, +1), (2, -128) no line, (2, +1), (4, -2).
test_expect_success '3.10 by hand: empty ranges, no-line ranges, the end' '
	"$TEST_TOOL" py-line 10 10 000502010280020104fe -2 0 2 4 6 8 10 >actual &&
	cat >expected <<-\END &&
	-2 10
	0 16
	2 -1
	4 17
	6 15
	8 15
	10 -1
	END
	test_cmp expected actual
'

# 3.11+ location table, first line 100: NO_COLUMNS +5 (1 unit), NONE
# (1 unit), LONG -3 (2 units), ONE_LINE2 (1 unit), SHORT (1 unit),
# NO_COLUMNS +40 in a two-byte varint (1 unit).
test_expect_success '3.11+ by hand: every kind of location entry' '
	for v in 11 12 13 14 15; do
		"$TEST_TOOL" py-line $v 100 e80af8f107000102e001028005e85001 \
			-2 0 2 4 6 8 10 12 14 >actual.$v || return 1
	done &&
	cat >expected <<-\END &&
	-2 100
	0 105
	2 -1
	4 102
	6 102
	8 104
	10 104
	12 144
	14 -1
	END
	for v in 11 12 13 14 15; do
		test_cmp expected actual.$v || return 1
	done
'

test_done
