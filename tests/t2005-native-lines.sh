#!/usr/bin/env bash
# Native frames named through libdwfl: file:line and inlined calls from DWARF
# in a separate debug file (by build id, by .gnu_debuglink, inside a
# chroot's root, from a debuginfod server), for a stripped binary built
# -g -O2 -fomit-frame-pointer whose call tree and lines are known by
# construction (workloads/srcline.c: main -> driver -> hot, mix inlined in
# hot); a deleted binary still resolves; RAMPA_SRCLINE=0 names functions only.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t2005.XXXXXX)
trap 'rm -rf "$WL"; _cleanup' EXIT
SRC="$TESTS_DIR/workloads/srcline.c"
gcc -g -O2 -fomit-frame-pointer -o "$WL/srcline.full" "$SRC" &&
	gcc -g -O2 -fomit-frame-pointer -static -o "$WL/srcline.static" "$SRC" ||
	skip_all "cannot build the workload with gcc"
export RAMPA_SRCLINE=1
cd "$TRASH" || exit 1

line_of() { grep -n "LINE:$1\b" "$SRC" | cut -d: -f1; }
MIX_BEGIN=$(line_of mix-begin) MIX_END=$(line_of mix-end)
HOT_CALL=$(line_of hot-call) DRIVER_CALL=$(line_of driver-call)
build_id() { readelf -n "$1" | awk '/Build ID/ { print $3 }'; }

# split FULL OUT DEBUGDIR: OUT stripped of everything, its DWARF and symbols
# in DEBUGDIR/.build-id/xx/yyyy.debug.
split() {
	local id
	id=$(build_id "$1") && mkdir -p "$3/.build-id/${id:0:2}" &&
		objcopy --only-keep-debug "$1" "$3/.build-id/${id:0:2}/${id:2}.debug" &&
		cp "$1" "$2" && strip --strip-all "$2"
}

# check_tree FILE: the share of the samples in hot that show the whole tree
# with each line known by construction, the inlined mix as its own frame.
# Naming is tested here, not unwinding (t3020): walks cut short (a
# "[unknown]" caller, as the first samples of a loaded machine may be before
# the unwind table is in place) are left out.
check_tree() {
	local s
	grep -v '^# ' "$1" | grep -E ";hot( |;|$)" | grep -v ";\[unknown\];" >hot.folded
	s=$(share hot.folded ";main \\(srcline\\.c:[0-9]+\\);driver \\(srcline\\.c:$DRIVER_CALL\\);hot \\(srcline\\.c:$HOT_CALL\\);mix \\(inlined\\) \\(srcline\\.c:[0-9]+\\)($|;)")
	echo "whole tree with lines: $s% of $(total hot.folded) samples in hot"
	awk -v s="$s" 'BEGIN { exit !(s >= 90) }' || return 1
	# The inlined code's lines lie in mix's body.
	grep -o "mix (inlined) (srcline.c:[0-9]*)" hot.folded | grep -o "[0-9]*)$" | tr -d ')' |
		sort -u | while read -r l; do
			[ "$l" -ge "$MIX_BEGIN" ] && [ "$l" -le "$MIX_END" ] ||
				{ echo "mix line $l outside $MIX_BEGIN-$MIX_END"; exit 1; }
		done
}

split "$WL/srcline.full" "$WL/srcline" "$WL/debug"
test_expect_success 'the workload: stripped, no frame pointers, its DWARF apart' '
	! readelf -S "$WL/srcline" | grep -q "\.symtab\|\.debug_info" &&
	! objdump -d "$WL/srcline.full" | grep -A3 "<hot>:" | grep -q "push *%rbp"
'

RAMPA_DEBUGINFO_PATH="$WL/debug" "$RAMPA" record -F 499 -o byid.folded -- "$WL/srcline" 2 2>byid.err
test_expect_success 'debug file by build id: names, file:line, the inlined call as a frame' '
	check_tree byid.folded
'
test_expect_success 'the summary counts the lines and inlined frames' '
	grep -Eq "^  lines         [1-9][0-9]* native code addresses named with file:line from DWARF, [1-9][0-9]* inlined-call frames" byid.err
'

RAMPA_SRCLINE=0 RAMPA_DEBUGINFO_PATH="$WL/debug" "$RAMPA" record -F 499 -o off.folded \
	-- "$WL/srcline" 1 2>off.err
test_expect_success 'RAMPA_SRCLINE=0: function names only, no inlined frames' '
	s=$(share off.folded ";driver;hot($|;)") &&
	echo "driver;hot: $s%" && awk -v s="$s" "BEGIN { exit !(s >= 90) }" &&
	! grep -q "(inlined)\|srcline\.c" off.folded
'

test_expect_success 'pprof carries native functions with their file and line' '
	"$RAMPA" report byid.folded -o byid.pb.gz &&
	if command -v go >/dev/null && go tool pprof -h >/dev/null 2>&1; then
		go tool pprof -raw byid.pb.gz 2>/dev/null | grep -Eq "hot srcline\.c:$HOT_CALL"
	else
		test -s byid.pb.gz
	fi
'

command -v go >/dev/null && test_set_prereq GO
RAMPA_DEBUGINFO_PATH="$WL/debug" "$RAMPA" record -F 499 -o addr.pb.gz -- "$WL/srcline" 1 2>addr.err
test_expect_success GO 'pprof from record: native locations at their address in their file'"'"'s mapping, the inlined call a line of its caller'"'"'s location' '
	HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local \
		go tool pprof -raw addr.pb.gz >addr.raw 2>&1 && cat addr.raw &&
	id=$(build_id "$WL/srcline") &&
	m=$(sed -n "s|^\([0-9]*\): 0x[0-9a-f]*/0x[0-9a-f]*/0x[0-9a-f]* $WL/srcline $id .*|\1|p" addr.raw) &&
	test -n "$m" &&
	range=$(sed -n "s|^$m: \(0x[0-9a-f]*\)/\(0x[0-9a-f]*\)/.*|\1 \2|p" addr.raw) &&
	grep -A1 -E "^ +[0-9]+: 0x[0-9a-f]+ M=$m mix srcline\.c:[0-9]+ " addr.raw >mix.loc &&
	grep -Eq "^ +hot srcline\.c:$HOT_CALL " mix.loc &&
	grep -Eq "^ +[0-9]+: 0x[0-9a-f]+ M=$m driver srcline\.c:$DRIVER_CALL " addr.raw &&
	sed -n "s/^ *[0-9]*: \(0x[0-9a-f]*\) M=$m .*/\1/p" addr.raw >addrs && test -s addrs &&
	while read -r a; do
		[ $((a)) -ne 0 ] && [ $((a)) -ge $((${range% *})) ] && [ $((a)) -lt $((${range#* })) ] ||
			{ echo "address $a outside $range"; exit 1; }
	done <addrs
'

"$RAMPA" record -F 499 -o py.pb.gz -- /usr/bin/python3.11 "$TESTS_DIR/workloads/split.py" 1 2>py.err
test_expect_success GO 'pprof from record of Python: Python frames at address 0 without a mapping, the interpreter'"'"'s at their address in its mapping' '
	HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local \
		go tool pprof -raw py.pb.gz >py.raw 2>&1 && cat py.raw &&
	grep -Eq "^ +[0-9]+: 0x0 alpha .*split\.py:[0-9]+ " py.raw &&
	! grep -E "^ +[0-9]+: .* (alpha|beta) .*split\.py" py.raw | grep -q " M=" &&
	m=$(sed -n "s|^\([0-9]*\): 0x[0-9a-f]*/0x[0-9a-f]*/0x[0-9a-f]* /usr/bin/python3.11 $(build_id /usr/bin/python3.11) .*|\1|p" py.raw) &&
	test -n "$m" && grep -Eq "^ +[0-9]+: 0x[0-9a-f]*[1-9a-f][0-9a-f]* M=$m " py.raw
'

# .gnu_debuglink: the debug file next to the binary, found by name, checked by CRC.
cp "$WL/srcline.full" "$WL/srcline-dl" && objcopy --only-keep-debug "$WL/srcline-dl" \
	"$WL/srcline-dl.debug" && strip --strip-all "$WL/srcline-dl" &&
	objcopy --add-gnu-debuglink="$WL/srcline-dl.debug" "$WL/srcline-dl"
"$RAMPA" record -F 499 -o link.folded -- "$WL/srcline-dl" 2 2>link.err
test_expect_success 'debug file by .gnu_debuglink' '
	check_tree link.folded
'

# A deleted binary resolves through /proc/PID/map_files.
cp "$WL/srcline" "$WL/doomed"
"$WL/doomed" 60 &
pid=$!
bg_track $pid
sleep 0.3
rm -f "$WL/doomed"
RAMPA_DEBUGINFO_PATH="$WL/debug" "$RAMPA" record -F 499 -d 2 -p $pid -o deleted.folded 2>deleted.err
test_expect_success 'a binary deleted while running: names and lines still' '
	grep -q "doomed (deleted)" deleted.err /proc/$pid/maps 2>/dev/null;
	check_tree deleted.folded
'
kill $pid 2>/dev/null

# In a chroot: the debug file lies in the chroot's /usr/lib/debug, read
# through /proc/PID/root; the host has none for it.
jail="$WL/jail"
mkdir -p "$jail/bin"
split "$WL/srcline.static" "$jail/bin/srcline" "$jail/usr/lib/debug"
"$RAMPA" record -F 499 -o chroot.folded -- chroot "$jail" /bin/srcline 2 2>chroot.err
test_expect_success 'a process in a chroot: its own debug file, through /proc/PID/root' '
	check_tree chroot.folded
'

# debuginfod: a server on 127.0.0.1 holds the only copy of the debug file.
command -v debuginfod >/dev/null && command -v debuginfod-find >/dev/null &&
	test_set_prereq DEBUGINFOD
if test_have_prereq DEBUGINFOD; then
	mkdir -p "$WL/served" "$WL/dcache" "$WL/nodebug"
	cp "$WL/srcline.full" "$WL/served/"
	port=$((20000 + $$ % 20000))
	debuginfod -F "$WL/served" -p $port -d "$WL/db.sqlite" >debuginfod.log 2>&1 &
	dpid=$!
	bg_track $dpid
	id=$(build_id "$WL/srcline")
	export DEBUGINFOD_URLS=http://127.0.0.1:$port DEBUGINFOD_CACHE_PATH="$WL/dcache"
	for _ in $(seq 150); do
		debuginfod-find debuginfo "$id" >/dev/null 2>&1 && break
		sleep 0.2
	done
	rm -rf "$WL/dcache" && mkdir -p "$WL/dcache"
	RAMPA_DEBUGINFO_PATH="$WL/nodebug" "$RAMPA" record -F 499 -o dinfod.folded \
		-- "$WL/srcline" 2 2>dinfod.err
	unset DEBUGINFOD_URLS
	kill $dpid 2>/dev/null
fi
test_expect_success DEBUGINFOD 'debuginfod (DEBUGINFOD_URLS): the debug file fetched from the server' '
	check_tree dinfod.folded && find "$WL/dcache" -name debuginfo | grep -q .
'

# A server that takes connections and never answers: asked once, for at most
# DEBUGINFOD_TIMEOUT (5 s unless set), then not again; the run still ends.
# It held a run for 150 s before (90 s a file, elfutils' default).
cat >silent.py <<'EOF'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
s.settimeout(0.5)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except OSError:
        pass
EOF
{ python3 silent.py 60 >silent.port & } && spid=$! && bg_track $spid
for _ in $(seq 50); do [ -s silent.port ] && break; sleep 0.1; done
test_expect_success 'a debuginfod server that never answers: asked once, the run ends' '
	test_when_finished "kill $spid" &&
	DEBUGINFOD_URLS=http://127.0.0.1:$(cat silent.port) DEBUGINFOD_CACHE_PATH="$WL/scache" \
		RAMPA_DEBUGINFO_PATH="$WL/nodebug" timeout 45 "$RAMPA" record -F 499 -o silent.folded \
		-- "$WL/srcline" 1 2>silent.err; r=$?; cat silent.err; [ $r -eq 0 ] &&
	[ "$(grep -c "gave nothing for .* not asked again" silent.err)" -eq 1 ] &&
	grep -q "^srcline;" silent.folded
'

test_done
