#!/usr/bin/env bash
# rampa-bpf dump: every thread's stack of a live process without stopping
# it. Python threads whose stacks are known by construction (one blocked in
# threading.Event.wait from wait_for_event, one spinning in spin_forever,
# the main thread sleeping in main_sleeps) on every interpreter of the
# matrix (Debian's stripped ones, pyenv's libpython, sid's in a chroot):
# names, functions, states, syscall, GIL holder; the target keeps running,
# is never stopped, and ends normally. A C process (native and kernel
# frames), the same in a chroot, and bad PIDs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib-formats.sh"
require_bpf
[ -x "$BUILD/dump-native" ] && [ -x "$BUILD/dump-native-static" ] ||
	skip_all "fixtures not built (tests/run.sh builds them)"

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workload goes there.
WL=$(mktemp -d /tmp/rampa-t3018.XXXXXX)
cp "$TESTS_DIR/workloads/dump_target.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
CHECK="$TESTS_DIR/dump_check.py"

# stopped_watch PID OUT: until OUT.end exists, note any thread of PID seen
# stopped or traced (state T or t) in OUT.
stopped_watch() {
	: >"$2"
	while [ ! -e "$2.end" ]; do
		for s in /proc/"$1"/task/*/stat; do
			st=$(sed 's/.*) //' "$s" 2>/dev/null | cut -c1)
			case $st in T | t) echo "$s $st" >>"$2" ;; esac
		done
	done
}

for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	dir=$WL/$label
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	$cmd "$WL/dump_target.py" "$dir" >"$TRASH/$label.out" 2>&1 &
	pid=$!
	bg_track $pid
	if ! wait_for test -s "$dir/ready"; then
		test_expect_success "$label: the workload starts" 'cat '"$label"'.out; false'
		continue
	fi
	read -r main waiter spinner <"$dir/ready"
	before=$(cat "$dir/counter")
	stopped_watch $pid "$TRASH/$label.stopped" &
	watch=$!
	"$RAMPA" dump -p $pid --json >"$TRASH/$label.json" 2>"$TRASH/$label.err"
	rc=$?
	"$RAMPA" dump -p $pid >"$TRASH/$label.txt" 2>>"$TRASH/$label.err"
	rc_text=$?
	touch "$TRASH/$label.stopped.end"
	wait $watch
	test_expect_success "$label: dump --json: names, functions, states, syscall, GIL holder" '
		[ '$rc' -eq 0 ] && [ ! -s '"$label"'.err ] && json_valid '"$label"'.json &&
		python3 "$CHECK" '"$label"'.json python '"$main $waiter $spinner $label"'
	'
	test_expect_success "$label: the text dump has one block per thread, headers as documented" '
		grep "^Thread" '"$label"'.txt; echo "exit '$rc_text'" &&
		[ '$rc_text' -eq 0 ] &&
		grep -Eq "^Thread '$waiter' \"os-waiter\" \(waiter-py\) blocked \[futex\]" '"$label"'.txt &&
		grep -Eq "^Thread '$spinner' .*\(spinner-py\) (running|runnable)( \[[a-z0-9_]+\])? \[GIL holder\]" \
			'"$label"'.txt &&
		grep -Eq "^    wait_for_event \(.*dump_target.py:[0-9]+\)$" '"$label"'.txt &&
		[ "$(grep -c "^Thread " '"$label"'.txt)" -eq 3 ]
	'
	test_expect_success "$label: the target is never stopped and keeps running" '
		[ ! -s '"$label"'.stopped ] &&
		wait_for sh -c "[ \$(cat '"$dir"'/counter) -gt '"$before"' ]" &&
		! grep -Eq "^TracerPid:[[:space:]]*[1-9]" /proc/'$pid'/status
	'
	touch "$dir/stop"
	wait $pid
	rc=$?
	test_expect_success "$label: ... and ends normally after the dumps" '
		[ '$rc' -eq 0 ] && grep -qx done '"$label"'.out
	'
done

# A C process: native and kernel frames, OS thread names, no Python.
"$BUILD/dump-native" >"$TRASH/native.out" &
pid=$!
bg_track $pid
wait_for grep -q ready "$TRASH/native.out"
test_expect_success 'a C process: native frames by .eh_frame, kernel frames, states' '
	"$RAMPA" dump -p '$pid' --json >native.json && json_valid native.json &&
	spinner=$(grep -l spinner /proc/'$pid'/task/*/comm | cut -d/ -f5) &&
	python3 "$CHECK" native.json native '$pid' "$spinner"
'
test_expect_success 'a thread id stands for its process' '
	spinner=$(grep -l spinner /proc/'$pid'/task/*/comm | cut -d/ -f5) &&
	"$RAMPA" dump -p "$spinner" --json >by-tid.json &&
	python3 -c "import json,sys; sys.exit(json.load(open(\"by-tid.json\"))[\"pid\"] != '$pid')"
'
test_expect_success '--no-native and --no-kernel leave those frames out' '
	"$RAMPA" dump -p '$pid' --no-native --no-kernel >bare.txt &&
	! grep -q "\[native\]\|\[kernel\]" bare.txt && grep -q "^Thread '$pid' " bare.txt
'
kill $pid

# A free-threaded runtime (3.13t and later; none is packaged here): dump
# says why there are no Python frames, in text and in JSON.
if [ -x "$BUILD/fake-freethreaded" ]; then
	"$BUILD/fake-freethreaded" >"$TRASH/ft.out" &
	pid=$!
	bg_track $pid
	wait_for grep -q ready "$TRASH/ft.out"
fi
test_expect_success 'a free-threaded runtime: no Python frames, and dump says why' '
	"$RAMPA" dump -p '$pid' >ft.txt && "$RAMPA" dump -p '$pid' --json >ft.json &&
	json_valid ft.json &&
	grep -q "^Python: .*fake-freethreaded is a free-threaded build (no GIL); Python frames are not walked$" ft.txt &&
	python3 -c "import json, sys; d = json.load(open(\"ft.json\"))
sys.exit(not (d[\"python\"] is None and \"free-threaded\" in d[\"python_unsupported\"]))" &&
	grep -q "main \[native\]" ft.txt
'
[ -x "$BUILD/fake-freethreaded" ] && kill $pid

# The same program in a chroot: its files are read inside the root.
mkdir -p "$TRASH/jail/bin"
cp "$BUILD/dump-native-static" "$TRASH/jail/bin/dumpee"
chroot "$TRASH/jail" /bin/dumpee >"$TRASH/jail.out" &
pid=$!
bg_track $pid
wait_for grep -q ready "$TRASH/jail.out"
test_expect_success 'a process in a chroot: frames named from the files inside it' '
	"$RAMPA" dump -p '$pid' --json >jail.json && json_valid jail.json &&
	spinner=$(grep -l spinner /proc/'$pid'/task/*/comm | cut -d/ -f5) &&
	python3 "$CHECK" jail.json native '$pid' "$spinner"
'
kill $pid

# Names from the target cannot forge lines: pythreads makes a control
# character U+FFFD, text_safe() would make one left '?'.
cat >"$WL/evil.py" <<'PY'
import threading
ev = threading.Event()
threading.Thread(target=ev.wait, name="evil\nThread 1 \"forged\"").start()
print("ready", flush=True)
ev.wait()
PY
/usr/bin/python3.11 "$WL/evil.py" >"$TRASH/evil.out" &
pid=$!
bg_track $pid
wait_for grep -q ready "$TRASH/evil.out"
evil_json='"python_name":"evil[^"]*Thread 1 \\"forged\\""'
test_expect_success 'a thread name with a newline cannot forge a thread header' '
	"$RAMPA" dump -p '$pid' >evil.txt && "$RAMPA" dump -p '$pid' --json >evil.json &&
	[ "$(grep -c "^Thread " evil.txt)" -eq 2 ] && grep -q "(evil.*Thread 1 \"forged\")" evil.txt &&
	grep -q -- "$evil_json" evil.json
'
kill $pid

# Bad PIDs: one line naming the problem, the documented exit status.
test_expect_success 'no -p: usage error (2), one line' '
	test_expect_code 2 "$RAMPA" dump 2>err && [ "$(wc -l <err)" -eq 1 ] &&
	grep -q "no process given (use -p PID)" err
'
test_expect_success 'a PID that is not a number: usage error (2), one line' '
	test_expect_code 2 "$RAMPA" dump -p abc 2>err && [ "$(wc -l <err)" -eq 1 ] &&
	grep -q "not a process id" err &&
	test_expect_code 2 "$RAMPA" dump -p 0 2>err && [ "$(wc -l <err)" -eq 1 ]
'
test_expect_success 'a PID that does not exist: no target (4), one line, nothing on stdout' '
	test_expect_code 4 "$RAMPA" dump -p 4194000 >out 2>err && [ "$(wc -l <err)" -eq 1 ] &&
	grep -q "no process with PID 4194000" err && [ ! -s out ]
'
test_expect_success 'without root: no permission (3), one line' '
	command -v setpriv >/dev/null || { echo "setpriv missing"; exit 1; }
	test_expect_code 3 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$RAMPA" dump -p $$ 2>err && [ "$(wc -l <err)" -eq 1 ] && grep -q "run as root" err
'
test_done
