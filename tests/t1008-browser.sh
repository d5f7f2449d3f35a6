#!/usr/bin/env bash
# The flame graph in a real browser: Debian's chromium, headless, driven by
# playwright-core (tests/browser). Clicking a frame zooms to it, Reset Zoom
# undoes it, Search highlights matches and shows the matched share.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
[ -x /usr/bin/chromium ] || skip_all "needs Debian's chromium (tools/install-deps.sh --test)"
command -v node >/dev/null || skip_all "needs node (tools/install-deps.sh --test)"
[ -d "$TESTS_DIR/browser/node_modules/playwright-core" ] ||
	skip_all "needs tests/browser/node_modules (tools/install-deps.sh --test runs npm ci)"
FIX="$TESTS_DIR/fixtures/formats"
export HOME="$TRASH"

test_expect_success 'the flame graph loads in chromium without script errors' '
	"$RAMPA" report -q "$FIX/app.folded" -o app.svg &&
	timeout 60 node "$TESTS_DIR/browser/flamegraph.cjs" app.svg >res && cat res &&
	grep -qx "errors=none" res && grep -qx "frames=17" res && grep -qx "initial.compute=590" res
'
test_expect_success 'clicking a frame zooms to it: full width, children scaled' '
	grep -qx "zoom.main=1180" res &&
	grep -qx "zoom.compute=621.05" res &&
	grep -qx "zoom.compute.label=compute (app.py:20)" res &&
	grep -qx "zoom.sibling.visible=false" res &&
	grep -qx "zoom.reset.opacity=1" res
'
test_expect_success 'ancestors of the zoomed frame stay, full width and faded' '
	grep -qx "zoom.ancestor=1180" res && grep -qx "zoom.ancestor.class=f parent" res
'
test_expect_success 'zooming again narrows further; Reset Zoom restores the graph' '
	grep -qx "zoom2.dot=1180" res && grep -qx "zoom2.other.visible=false" res &&
	grep -qx "reset.compute=590" res && grep -qx "reset.sibling.visible=true" res
'
test_expect_success 'search by regular expression highlights matches and shows the share' '
	grep -qx "search1.matched=Matched: 45.00% (450 samples) /^(encode|cblas)/" res &&
	grep -qx "search1.count=2" res && grep -qx "search1.fill=rgb(230,0,230)" res &&
	grep -qx "search1.button=Reset Search" res
'
test_expect_success 'clearing the search restores colours' '
	grep -qx "cleared.matched=" res && fill=$(sed -n "s/^initial.fill=//p" res) &&
	[ -n "$fill" ] && [ "$fill" != "rgb(230,0,230)" ] && grep -qx "cleared.fill=$fill" res
'
test_expect_success 'nested matches count once; the share is of the whole profile' '
	grep -qx "search2.matched=Matched: 95.00% (950 samples) /main|compute/" res &&
	grep -qx "search3.matched=Matched: 5.00% (50 samples) /_\\\\\[k\\\\\]\$/" res
'
test_expect_success 'hovering shows count, unit, percentage and kind' '
	grep -qx "hover.details=encode (/usr/lib/python3.11/json/encoder.py:200) | 300 samples (30.00%), self 300 samples, stdlib" res
'
test_expect_success 'the differential flame graph zooms and searches too' '
	"$RAMPA" diff -q "$FIX/diff-base.folded" "$FIX/diff-new.folded" -o diff.svg >/dev/null &&
	timeout 60 node "$TESTS_DIR/browser/probe.cjs" diff.svg "main (app.py:5)" "^(encode|new_path)" \
		>dres && cat dres &&
	grep -qx "errors=none" dres && grep -qx "zoom.width=1180.00" dres &&
	grep -qx "matched=Matched: 45.30% (5400 samples) /^(encode|new_path)/" dres
'
test_done
