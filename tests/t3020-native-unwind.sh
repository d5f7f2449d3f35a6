#!/usr/bin/env bash
# Native stacks without frame pointers, walked by the CFI unwinder: code
# built -O2 -fomit-frame-pointer whose call chain is known by construction
# (run -> level1 -> level2 -> level3, workloads/unwind-chain.c) as a program,
# under Python through ctypes, and as a library mapped after attach; and a
# binary whose .eh_frame is damaged, which is counted, not followed blindly.
# Off-CPU: a walk reused at a switch-out is the walk made again.
. "$(dirname "$0")/lib.sh"
require_bpf

WL=$(mktemp -d /tmp/rampa-t3020.XXXXXX)
trap 'rm -rf "$WL"; _cleanup' EXIT
nofp="-O2 -fomit-frame-pointer"
# shellcheck disable=SC2086
gcc $nofp -DCHAIN_MAIN -o "$WL/chain" "$TESTS_DIR/workloads/unwind-chain.c" &&
	gcc $nofp -shared -fPIC -nostdlib -o "$WL/libchain.so" "$TESTS_DIR/workloads/unwind-chain.c" &&
	gcc $nofp -o "$WL/dlopen" "$TESTS_DIR/workloads/unwind-dlopen.c" -ldl &&
	gcc $nofp -DCHAIN_MAIN -DBIG_FRAME=65536 -o "$WL/bigchain" \
		"$TESTS_DIR/workloads/unwind-chain.c" &&
	gcc $nofp -o "$WL/callers" "$TESTS_DIR/workloads/callers.c" &&
	gcc $nofp -pthread -o "$WL/pingpong" "$TESTS_DIR/workloads/pingpong.c" ||
	skip_all "cannot build the workloads with gcc"
cp "$TESTS_DIR/workloads/unwind_drive.py" "$TESTS_DIR/workloads/select_loop.py" "$WL/"
# Tables compiled during this script, not read from an earlier run's cache.
export RAMPA_UNWIND_CACHE="$WL/cache"
cd "$TRASH" || exit 1

# of FILE REGEX OUT: the stacks of FILE matching REGEX, into OUT.
of() { grep -v '^# ' "$1" | grep -E "$2" >"$3"; }

test_expect_success 'the workloads have no frame pointers' '
	! objdump -d "$WL/chain" | grep -A3 "<level2>:" | grep -q "push *%rbp"
'

"$RAMPA" record -F 499 -o chain.folded -- "$WL/chain" 2 2>chain.err
test_expect_success 'a C program: the whole chain from _start in >= 90% of level3 samples' '
	of chain.folded ";level3( |;)" l3 &&
	s=$(share l3 "^chain;_start;__libc_start_main;__libc_start_call_main;main;run;level1;level2;level3") &&
	echo "whole chain: $s% of $(total l3) level3 samples" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'
test_expect_success 'the summary tells how stacks were walked' '
	grep -Eq "^  unwinding     [1-9][0-9]* stacks walked by CFI" chain.err &&
	grep -Eq "tables of [1-9][0-9]* files" chain.err
'

"$RAMPA" record -F 499 -o big.folded -- "$WL/bigchain" 2 2>big.err
test_expect_success 'a frame over 32 KiB (CFA rsp+65552): the chain goes through it' '
	readelf --debug-dump=frames-interp "$WL/bigchain" | grep -q "rsp+655[0-9][0-9]" &&
	of big.folded ";level3( |;)" l3 &&
	s=$(share l3 "^bigchain;_start;__libc_start_main;__libc_start_call_main;main;run;level1;level2;level3") &&
	echo "whole chain: $s% of $(total l3) level3 samples" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'

PY=/usr/bin/python3.11
"$RAMPA" record -F 499 -o py.folded -- $PY "$WL/unwind_drive.py" "$WL/libchain.so" 3 2>py.err
test_expect_success 'Python over C: outer;...;run;level1;level2;level3 in >= 90% of outer samples' '
	of py.folded ";outer \\(" outer &&
	s=$(share outer ";<module> \\([^;]*;main \\([^;]*;outer \\([^;]*unwind_drive.py:[0-9]+\\);.*;run;level1;level2;level3(;|$)") &&
	echo "merged: $s% of $(total outer) outer samples" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'
# select.select's C frame on Debian's 3.11 is 48 KiB: a thread waiting in
# it is one tower from its root, not a second root at its Python frames.
# The first second is left out: tables are built while python starts.
"$RAMPA" record -m wall -F 99 -o sel.folded -- $PY "$WL/select_loop.py" 3 2>sel.err
test_expect_success 'waits in a 48 KiB C frame (select.select) keep their roots' '
	"$RAMPA" report sel.folded --from 1 -o sel1.folded 2>/dev/null &&
	of sel1.folded ";poll_loop \\(" poll &&
	s=$(share poll "^python3.11;(_start;|__GI___clone3;start_thread;)") &&
	echo "rooted: $s% of $(total poll) poll_loop wall time" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'
# The sort's C code runs between caller and the key function it calls.
test_expect_success 'sorted() with a Python key: C frames between caller and keyfn' '
	of py.folded ";keyfn \\(" key &&
	s=$(share key ";caller \\([^;]*\\);([^;(]+;)+keyfn \\(") &&
	echo "in order: $s% of $(total key) keyfn samples" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'

"$RAMPA" record -F 499 -o dl.folded -- "$WL/dlopen" "$WL/libchain.so" 0.5 2 2>dl.err
test_expect_success 'a library mapped after attach (dlopen) is unwound' '
	of dl.folded ";level3( |;)" l3 &&
	s=$(share l3 "^dlopen;_start;__libc_start_main;__libc_start_call_main;main;run;level1;level2;level3") &&
	echo "whole chain: $s% of $(total l3) level3 samples" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'

# The scheduler hook reuses a thread's last walk only when every stack word
# it read is unchanged. c() and d() block through via() at the same
# instruction and stack pointer: their stacks differ two frames above the
# leaf, in via()'s return address.
"$RAMPA" record -q --mode offcpu -o deep.folded -- "$WL/callers" 2 deep 2>deep.err
# A walk reused without checking every word gives 100:0 (seen with a check
# of the leaf's word only); +-10 points tells that apart.
test_expect_success 'offcpu: stacks that differ two frames up are told apart, 3:1' '
	c=$(share deep.folded ";main;c;via;pause_ms;") && d=$(share deep.folded ";main;d;via;pause_ms;") &&
	echo "c $c%, d $d%" && [ "$(total deep.folded)" -gt 0 ] &&
	within "$(awk -v c="$c" -v d="$d" "BEGIN { print 100 * c / (c + d) }")" 75 10
'
# Attached with -p: the tables are in place before the first switch.
"$WL/pingpong" 100000000 >/dev/null &
pp=$!
sleep 0.5
"$RAMPA" record --mode offcpu -p $pp -d 1 -o pp.folded 2>pp.err
kill $pp
wait $pp 2>/dev/null
test_expect_success 'offcpu: a thread blocking where it blocked before reuses its walk, whole' '
	grep "^  unwinding" pp.err &&
	walked=$(sed -n "s/^  unwinding *\([0-9]*\) stacks walked.*/\1/p" pp.err) &&
	reused=$(sed -n "s/.* \([0-9]*\) reused after checking.*/\1/p" pp.err) &&
	[ "$reused" -gt "$walked" ] &&
	of pp.folded ";__read;" reads &&
	s=$(share reads "^pingpong;(_start;__libc_start_main;__libc_start_call_main;main|__GI___clone3;start_thread;echo);__read;") &&
	echo "whole: $s% of the time in read" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'

# Damage: every byte of .eh_frame replaced by a fixed pseudo-random one. The
# build id goes too: tables are shared by build id, and this is another file.
objcopy --remove-section .note.gnu.build-id "$WL/chain" "$WL/damaged"
read -r off size < <(readelf -SW "$WL/damaged" |
	awk '$2 == ".eh_frame" { print $5, $6 }')
python3 -c '
import random, sys
path, off, size = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
random.seed(3020)
with open(path, "r+b") as f:
    f.seek(off)
    f.write(bytes(random.randrange(256) for _ in range(size)))
' "$WL/damaged" "$off" "$size"
"$RAMPA" record -F 499 -o damaged.folded -- "$WL/damaged" 1 2>damaged.err
status=$?
test_expect_success 'a damaged .eh_frame: no crash, the profile is written' '
	echo "exit $status" && [ $status -eq 0 ] && [ "$(total damaged.folded)" -gt 50 ]
'
test_expect_success 'a damaged .eh_frame: what could not be walked is counted' '
	grep -E "native stacks cut|[1-9][0-9]* files without CFI" damaged.err
'
test_expect_success 'RAMPA_UNWIND=fp: the frame-pointer walk only, said so' '
	RAMPA_UNWIND=fp "$RAMPA" record -F 99 -o fp.folded -- "$WL/chain" 0.3 2>fp.err &&
	grep -q "^  unwinding     frame pointers only" fp.err
'
test_expect_success 'tables compiled once are read from the disk cache' '
	"$RAMPA" record -F 99 -o again.folded -- "$WL/chain" 0.3 2>again.err &&
	grep -Eq "tables of ([0-9]+) files \\(\\1 from the disk cache\\)" again.err
'
test_expect_success 'libraries beyond the table space: counted, no crash, the profile is written' '
	test_when_finished "cat many.out many.err" &&
	"$RAMPA" record -o many.folded -- /usr/bin/python3.11 "$TESTS_DIR/workloads/manylibs.py" 12 \
		>many.out 2>many.err &&
	[ "$(total many.folded)" -gt 50 ] &&
	grep -q "unwind tables not loaded: table space full" many.err
'
test_done
