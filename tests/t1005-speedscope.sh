#!/usr/bin/env bash
# speedscope output: valid against speedscope's own file-format schema, one
# profile per thread, units right, Python frames split into name/file/line.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v node >/dev/null || skip_all "needs node (tools/install-deps.sh --test)"
[ -d "$TESTS_DIR/browser/node_modules/ajv" ] &&
	[ -f "$TESTS_DIR/browser/node_modules/speedscope/dist/release/file-format-schema.json" ] ||
	skip_all "needs tests/browser/node_modules (tools/install-deps.sh --test runs npm ci)"
FIX="$TESTS_DIR/fixtures/formats"
check() { node "$TESTS_DIR/browser/speedscope-check.cjs" "$@"; }

test_expect_success 'validates against the schema; one profile per thread' '
	"$RAMPA" report -q "$FIX/app.folded" -o app.speedscope.json &&
	check app.speedscope.json >out && cat out &&
	[ "$(grep -c "^profile " out)" -eq 2 ] &&
	grep -q "^profile python3 / MainThread-4242 (mode cpu, unit samples, target python3 app.py (pid 4242), 10.0 s, 99 Hz) unit=none end=950 samples=3 weight=950 depth0=python3 " out &&
	grep -q "^profile python3 / worker-4243 (.*) unit=none end=50 samples=1 weight=50 " out
'
test_expect_success 'the thread frame names the profile and leaves the stacks' '
	! grep "^profile" out | grep -q "names=.*MainThread" &&
	grep "^profile python3 / MainThread" out | grep -q "names=<module>,cblas_dgemm,compute,dot,dumps,encode,main,python3$"
'
test_expect_success 'Python frames carry file and line' '
	grep -q "^frame compute /srv/app/app.py 20$" out &&
	grep -q "^frame encode /usr/lib/python3.11/json/encoder.py 200$" out &&
	! grep -q "^frame cblas_dgemm" out
'
test_expect_success 'time profiles are in microseconds; no threads: one profile' '
	"$RAMPA" report -q "$FIX/pyspy.txt" --mode wall --hz 100 -o wall.speedscope.json &&
	check wall.speedscope.json >out && cat out &&
	[ "$(grep -c "^profile " out)" -eq 1 ] &&
	grep -q "^profile mode wall, unit microseconds, .* unit=microseconds end=100 samples=2 weight=100 depth0=<module> " out
'
test_expect_success 'with --per-process: one profile per process, or per thread with -T' '
	cat >pt.folded <<-\EOF &&
	# rampa-bpf: target "t", mode cpu, unit samples, duration 1.000 s, rate 99 Hz, groups process+thread
	python3;python3-100;MainThread-100;main (a.py:1) 6
	python3;python3-200;worker-201;work (a.py:9) 4
	EOF
	"$RAMPA" report -q pt.folded -o pt.speedscope.json && check pt.speedscope.json >out &&
	cat out && [ "$(grep -c "^profile " out)" -eq 2 ] &&
	grep -q "^profile python3 / python3-100 / MainThread-100 (.*) .* names=main,python3$" out &&
	grep -q "^profile python3 / python3-200 / worker-201 (.*) .* names=python3,work$" out &&
	sed "s/groups process+thread/groups process/; s/;MainThread-100//; s/;worker-201//" \
		pt.folded >p.folded &&
	"$RAMPA" report -q p.folded -o p.speedscope.json && check p.speedscope.json >out &&
	cat out && [ "$(grep -c "^profile " out)" -eq 2 ] &&
	grep -q "^profile python3 / python3-100 (.*) .* names=main,python3$" out
'
printf 'p;say "hi"\\there;tab\tx 3\n' >"$TRASH/esc.folded"
printf '%s\n' '{"name":"say \"hi\"\\there"}' '{"name":"tab\u0009x"}' >"$TRASH/esc.expect"
test_expect_success 'names needing JSON escapes survive' '
	"$RAMPA" report -q esc.folded -o esc.json && check esc.json >out &&
	grep -Fq -f esc.expect esc.json && [ "$(grep -Fo -f esc.expect esc.json | wc -l)" -eq 2 ]
'
test_expect_success 'the checker rejects a file missing required fields' '
	node -e "const d = require(\"./app.speedscope.json\"); delete d.profiles[0].weights;
		require(\"fs\").writeFileSync(\"broken.json\", JSON.stringify(d))" &&
	! check broken.json 2>err && grep -q "weights" err
'
test_done
