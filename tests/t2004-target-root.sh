#!/usr/bin/env bash
# Files read inside a target's root stay inside it: a separate debug file
# looked up in a chroot is resolved there (an absolute symlink planted in the
# jail cannot reach a host file), and a FIFO planted there is refused, not
# waited on.
. "$(dirname "$0")/lib.sh"

require_root
[ -x "$TEST_TOOL" ] && [ -x "$BUILD/symfix-static" ] || skip_all "fixtures not built"

start_fixture() {
	"$@" >"$TRASH/addrs" 2>/dev/null </dev/null &
	fixture_pid=$!
	bg_track $fixture_pid
	wait_for grep -q lib_local "$TRASH/addrs"
}
addr() { awk -v n="$1" '$1 == n { print $2 }' "$TRASH/addrs"; }
symbolize() {
	timeout 10 "$TEST_TOOL" symbolize "$fixture_pid" "$(addr "$1")" | awk '{ print $2 }'
}

id=$("$TEST_TOOL" elf "$BUILD/symfix-static" | sed -n 's/.*build_id=\([0-9a-f]*\).*/\1/p')
[ ${#id} -eq 40 ] || skip_all "the fixture has no build id"
dbg=usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
# Nothing on the host at that path: only the jail can provide it.
[ -e "/$dbg" ] && skip_all "the host has a debug file for the fixture"

mkdir -p "$TRASH/jail/bin" "$TRASH/jail/$(dirname "$dbg")"
cp "$BUILD/symfix-static" "$TRASH/jail/bin/fixture"
strip "$TRASH/jail/bin/fixture"
# A root-only host file the jail must not reach: the fixture's own symbols.
mkdir -m 700 "$TRASH/secret"
cp "$BUILD/symfix-static" "$TRASH/secret/fixture.debug"
chmod 600 "$TRASH/secret/fixture.debug"

start_fixture chroot "$TRASH/jail" /bin/fixture

test_expect_success 'the stripped fixture in the jail has no names of its own' '
	[[ $(symbolize exe_local) =~ ^fixture\+0x ]]
'
test_expect_success 'a debug file inside the jail is found there' '
	cp "$BUILD/symfix-static" "jail/$dbg" &&
	[ "$(symbolize exe_local)" = exe_local ] && rm "jail/$dbg"
'
test_expect_success 'an absolute symlink in the jail resolves inside it, not to the host' '
	ln -s "$TRASH/secret/fixture.debug" "jail/$dbg" &&
	got=$(symbolize exe_local) && [[ $got =~ ^fixture\+0x ]] &&
	rm "jail/$dbg"
'
test_expect_success 'a relative ../ symlink cannot climb out of the jail either' '
	ln -s "../../../../../../../../../../../../../..$TRASH/secret/fixture.debug" "jail/$dbg" &&
	got=$(symbolize exe_local) && [[ $got =~ ^fixture\+0x ]] &&
	rm "jail/$dbg"
'
test_expect_success 'a FIFO in the jail is refused, not waited on' '
	mkfifo "jail/$dbg" &&
	got=$(symbolize exe_local) && [[ $got =~ ^fixture\+0x ]] &&
	rm "jail/$dbg"
'
kill $fixture_pid
test_done
