#!/usr/bin/env bash
# Python stacks on real interpreters, for every version the test matrix has:
# a workload whose split is known by construction (alpha() spins 30 ms and
# beta() 10 ms of every cycle, both through spin()) must come out at 75/25
# under the right callers, files and lines.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t4001.XXXXXX)
cp "$TESTS_DIR/workloads/split.py" "$TESTS_DIR/workloads/roles.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT

F="$WL/split.py"
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	out="$TRASH/$label.folded"
	# shellcheck disable=SC2086
	"$RAMPA" record -F 499 -o "$out" -- $cmd "$F" 3 2>"$TRASH/$label.err"
	# Steady state only: stacks through run(), in the python process.
	python_frames "$out" | grep -E "^python[0-9.]*;.*;run \(" >"$TRASH/$label.run"
	test_expect_success "$label: alpha 75% and beta 25% of the cycle, through spin()" '
		a=$(share '"$label"'.run ";alpha \\($F:25\\);spin \\($F:(18|19|20)\\)") &&
		b=$(share '"$label"'.run ";beta \\($F:29\\);spin \\($F:(18|19|20)\\)") &&
		echo "alpha=$a beta=$b" && within "$a" 75 3 && within "$b" 25 3
	'
	test_expect_success "$label: callers, files and lines are exact, root to leaf" '
		grep -Eq "^python[0-9.]*;(.*;)?<module> \($F:73\);main \($F:67\);recurse \($F:51\);run \($F:46\);cycle \($F:37\);alpha \($F:25\);spin \($F:20\)" '"$label"'.run &&
		grep -q ";cycle ($F:38);beta ($F:29);spin ($F:20)" '"$label"'.run
	'
	test_expect_success "$label: at least 99% of Python samples have the whole stack" '
		pct=$(sed -n "s/.* \([0-9.]*\)% of those running Python code.*/\1/p" '"$label"'.err) &&
		echo "complete=$pct" && within "$pct" 100 1
	'
done

# Debug builds (python3.Xd, --with-pydebug) keep the release layout of every
# field rampa-bpf reads (tools/cpython-layouts/gen.sh with CPPFLAGS=-DPy_DEBUG
# prints the same tables): their stacks must be as exact. Debian ships them
# for 3.9 (bullseye) and 3.13-3.15 (sid). A python3.X-dbg package also
# brings the release binary's debug file: bullseye's goes in a rootfs of its
# own, so the matrix's 3.9 stays stripped (sid's release builds have theirs
# already); the host's 3.11 is left stripped (no python3.11-dbg).
dbg=()
if "$TESTS_DIR/pythons/install.sh" --cache "$PYCACHE-dbg" 3.9d-bullseye \
	>"$TRASH/install-dbg.log" 2>&1 &&
	"$TESTS_DIR/pythons/install.sh" --cache "$PYCACHE" 3.13d-sid 3.15d-sid \
		>>"$TRASH/install-dbg.log" 2>&1; then
	dbg+=("3.9d-bullseye $TESTS_DIR/pythons/run.sh --cache $PYCACHE-dbg 3.9d-bullseye")
	for label in 3.13d-sid 3.15d-sid; do
		dbg+=("$label $TESTS_DIR/pythons/run.sh $label")
	done
else
	tail -5 "$TRASH/install-dbg.log" | sed 's/^/# /'
fi
[ "${CI:-}" = true ] && test_expect_success 'the three debug builds are installed' '
	[ '"${#dbg[@]}"' -eq 3 ]
'
for entry in "${dbg[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	# shellcheck disable=SC2086
	"$RAMPA" record -F 499 -o "$TRASH/$label.folded" -- $cmd "$F" 2 2>"$TRASH/$label.err"
	python_frames "$TRASH/$label.folded" | grep -E "^python[0-9.]*d?;.*;run \(" >"$TRASH/$label.run"
	test_expect_success "$label (debug build): alpha 75% and beta 25%, whole stacks" '
		! grep -q "native only" '"$label"'.err &&
		a=$(share '"$label"'.run ";alpha \\($F:25\\);spin \\($F:(18|19|20)\\)") &&
		b=$(share '"$label"'.run ";beta \\($F:29\\);spin \\($F:(18|19|20)\\)") &&
		echo "alpha=$a beta=$b" && within "$a" 75 4 && within "$b" 25 4 &&
		grep -Eq "^python[0-9.]*d?;(.*;)?<module> \($F:73\);main \($F:67\);recurse \($F:51\);run \($F:46\);cycle \($F:37\);alpha \($F:25\);spin \($F:20\)" '"$label"'.run
	'
done

test_expect_success 'deep recursion: 200 nested calls come out whole, root to leaf' '
	"$RAMPA" record -F 499 -o deep.folded -- /usr/bin/python3.11 "$F" 1.5 --depth 200 2>err &&
	line=$(python_frames deep.folded | grep ";alpha (" | awk "{ print \$NF, \$0 }" | sort -nr | head -1) &&
	n=$(echo "$line" | grep -o "recurse (" | wc -l) && echo "recurse frames=$n" &&
	[ "$n" -eq 201 ] && echo "$line" | grep -q "python3.11;<module> ($F:73);main" &&
	! grep -q "truncated" deep.folded
'
test_expect_success 'deeper than 256 frames: marked truncated, counted in the summary' '
	"$RAMPA" record -F 499 -o deeper.folded -- /usr/bin/python3.11 "$F" 1.5 --depth 300 2>err &&
	grep -q "^python3.11;\[truncated: deeper than 256 Python frames\];recurse" deeper.folded &&
	grep -q "truncated (deeper than the limit)" err
'
R="$WL/roles.py"
test_expect_success 'threads: each thread shows its own stack' '
	"$RAMPA" record -F 499 -o roles.native -- /usr/bin/python3.11 "$R" 3 2>err &&
	python_frames roles.native >roles.folded &&
	grep -q "threads       3 in 1 process" err &&
	for f in work_a work_b main_work; do
		s=$(share roles.folded ";$f \\($R:[0-9]+\\);burn") && echo "$f=$s" &&
		within "$s" 33 12 || exit 1
	done &&
	! grep -E "main_work.*work_[ab]|work_[ab].*main_work|work_a.*work_b|work_b.*work_a" roles.folded &&
	grep -q "Thread.run ([^)]*threading.py:[0-9]*);work_a ($R:20);burn ($R:1[45])" roles.folded &&
	grep -q "^python3.11;<module> ($R:43);main ($R:37);main_work ($R:28);burn" roles.folded
'
test_expect_success 'record -p on a running interpreter: Python frames from the start' '
	/usr/bin/python3.11 "$F" 20 >/dev/null 2>&1 </dev/null & t=$!; bg_track $t
	sleep 1; "$RAMPA" record -p $t -d 1.5 -o attach.native 2>err; kill $t
	python_frames attach.native >attach.folded
	within "$(share attach.folded ";cycle \\($F:37\\);alpha")" 75 5 &&
	pct=$(sed -n "s/.* \([0-9.]*\)% of those running Python code.*/\1/p" err) && within "$pct" 100 1
'
test_expect_success 'python -m with a module: Python frames under runpy' '
	PYTHONPATH="$WL" "$RAMPA" record -F 499 -o m.native -- /usr/bin/python3.11 -m split 1.5 2>err &&
	python_frames m.native | grep -Eq "_run_module_as_main \((<frozen runpy>|[^)]*runpy.py):[0-9]+\);_run_code \((<frozen runpy>|[^)]*runpy.py):[0-9]+\);<module> \($F:73\)"
'
cp "$TESTS_DIR/workloads/test_spin.py" "$WL/"
test_expect_success 'python -m pytest tests/test_x.py: the test function under pytest' '
	/usr/bin/python3.11 -m pytest --version >/dev/null 2>&1 || { echo "pytest missing"; exit 1; }
	(cd "$WL" && "$RAMPA" record -F 499 -o "$TRASH/pytest.folded" -- /usr/bin/python3.11 -m pytest \
		-q -p no:cacheprovider test_spin.py) >out 2>err &&
	grep -q "1 passed" out && python_frames pytest.folded >pytest.py &&
	within "$(share pytest.py ";pytest_pyfunc_call \([^)]*\);test_spin \([^)]*test_spin.py:14\);spin_in_test")" 80 15
'
[ -x /root/.pyenv/versions/3.8.18/bin/python ] && test_set_prereq PY38
test_expect_success PY38 'an unsupported version (3.8): one clear warning, native stacks, no crash' '
	"$RAMPA" record -o old.folded -- /root/.pyenv/versions/3.8.18/bin/python "$F" 1 2>err &&
	grep -q "warning: PID [0-9]*: .*CPython 3.8; rampa-bpf walks 3.9 to 3.15; its stacks are native only" err &&
	[ "$(grep -c warning err)" -eq 1 ] && ! grep -q "$F" old.folded && [ -s old.folded ]
'

test_done
