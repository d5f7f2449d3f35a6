#!/usr/bin/env bash
# CPython's layouts, without root or a live interpreter: the tables
# compiled in (src/cpython_layouts.c) print as their fixtures, which are
# what tools/cpython-layouts/gen.sh derives from each version's headers
# (checked here where those headers are installed).
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

# Where pyenv has the headers of a version, they give the fixture again.
for v in 3.9 3.10 3.11 3.12 3.13; do
	inc=$(ls -d /root/.pyenv/versions/$v.*/include 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$inc" ] || ! command -v "${CC:-cc}" >/dev/null; then
		echo "# no pyenv $v headers (or no compiler): gen.sh not checked for $v"
		continue
	fi
	test_expect_success "$v: gen.sh on the headers of $(basename "$(dirname "$inc")") gives the fixture" "
		\"$GEN\" --check $v >out &&
		grep 'agree with' out
	"
done

test_done
