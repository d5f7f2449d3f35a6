#!/usr/bin/env bash
# User-space symbolization of live processes: PIE, non-PIE, shared library,
# static, stripped, deleted binaries, and a process inside a chroot.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] && [ -x "$BUILD/symfix-pie" ] || skip_all "fixtures not built"

# start_fixture BINARY: runs it, waits for its address list in $TRASH/addrs.
start_fixture() {
	"$@" >"$TRASH/addrs" 2>/dev/null </dev/null &
	fixture_pid=$!
	bg_track $fixture_pid
	wait_for grep -q lib_local "$TRASH/addrs"
}
addr() { awk -v n="$1" '$1 == n { print $2 }' "$TRASH/addrs"; }
symbolize() { "$TEST_TOOL" symbolize "$fixture_pid" "$(addr "$1")" | awk '{ print $2 }'; }

check_all() { # expected names for: exe_exported exe_local lib_exported lib_local
	local n want got rc=0
	for n in exe_exported exe_local lib_exported lib_local; do
		want=$1; shift
		got=$(symbolize $n)
		if ! [[ $got =~ ^$want$ ]]; then echo "$n: got '$got', want '$want'"; rc=1; fi
	done
	return $rc
}

start_fixture "$BUILD/symfix-pie"
test_expect_success 'PIE executable and its shared library resolve' '
	check_all exe_exported exe_local lib_exported lib_local
'
kill $fixture_pid

start_fixture "$BUILD/symfix-nopie"
test_expect_success 'non-PIE executable resolves' '
	check_all exe_exported exe_local lib_exported lib_local
'
kill $fixture_pid

start_fixture "$BUILD/symfix-static"
test_expect_success 'static executable resolves' '
	check_all exe_exported exe_local lib_exported lib_local
'
kill $fixture_pid

start_fixture "$BUILD/symfix-stripped"
test_expect_success 'stripped executable: exported names from .dynsym, module+offset otherwise' '
	"$TEST_TOOL" elf "$BUILD/symfix-stripped" | grep -q "symtab=0" &&
	check_all "(exe_exported|symfix-stripped\+0x[0-9a-f]+)" "symfix-stripped\+0x[0-9a-f]+" \
		lib_exported lib_local
'
kill $fixture_pid

cp "$BUILD/symfix-pie" "$TRASH/doomed"
cp "$BUILD/libsymfix.so" "$TRASH/"
start_fixture "$TRASH/doomed"
rm -f "$TRASH/doomed"
test_expect_success 'an executable deleted while running still resolves' '
	grep -q "doomed (deleted)" /proc/$fixture_pid/maps &&
	check_all exe_exported exe_local lib_exported lib_local
'
kill $fixture_pid

if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$TRASH/jail/bin"
	cp "$BUILD/symfix-static" "$TRASH/jail/bin/fixture"
	start_fixture chroot "$TRASH/jail" /bin/fixture
	test_expect_success 'a process in a chroot resolves through /proc/PID/root' '
		grep -q "jail/bin/fixture$" /proc/$fixture_pid/maps &&
		check_all exe_exported exe_local lib_exported lib_local
	'
	kill $fixture_pid
fi

start_fixture "$BUILD/symfix-pie"
test_expect_success 'an address in no mapping is [unknown]' '
	[ "$("$TEST_TOOL" symbolize $fixture_pid 0x10 | awk "{print \$2}")" = "[unknown]" ]
'
kill $fixture_pid
test_expect_success 'ELF reader: build id and symbol counts of the fixture' '
	"$TEST_TOOL" elf "$BUILD/symfix-pie" >out &&
	grep -Eq "symbols=[0-9]+ symtab=1 build_id=[0-9a-f]{40}" out
'
test_expect_success 'ELF reader: a file that is not ELF is refused with a reason' '
	echo hello >notelf && ! "$TEST_TOOL" elf notelf >out && grep -q "not an ELF file" out
'
test_done
