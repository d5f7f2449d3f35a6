#!/usr/bin/env bash
# C code without frame pointers under Python on every interpreter of the
# test matrix: outer() calls run -> level1 -> level2 -> level3 through ctypes
# (workloads/unwind-chain.c built -O2 -fomit-frame-pointer, no libc, so the
# chroots' older C libraries load it). The CFI unwinder walks the native
# stack whole and the Python frames are spliced at the eval loop: the chain
# sits under outer in its true order. sorted() with a Python key function
# shows the sort's C frames between caller and keyfn. C calling back into
# Python (libc's qsort through ctypes, a sqlite user function) puts the
# callback under its true caller on Debian's stripped 3.11 and on 3.15,
# where every stack with Python frames hangs from _start (one tower).
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t4020.XXXXXX)
trap 'rm -rf "$WL"; _cleanup' EXIT
gcc -O2 -fomit-frame-pointer -shared -fPIC -nostdlib -o "$WL/libchain.so" \
	"$TESTS_DIR/workloads/unwind-chain.c" || skip_all "cannot build the workload with gcc"
cp "$TESTS_DIR/workloads/unwind_drive.py" "$TESTS_DIR/workloads/c_callbacks.py" "$WL/"
cd "$TRASH" || exit 1

for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	# shellcheck disable=SC2086
	"$RAMPA" record -F 499 -o "$label.folded" -- $cmd "$WL/unwind_drive.py" "$WL/libchain.so" 3 \
		2>"$label.err"
	test_expect_success "$label: outer;...;run;level1;level2;level3 in >= 90% of outer samples" '
		grep -v "^# " '"$label"'.folded | grep -E ";outer \\(" >'"$label"'.outer &&
		s=$(share '"$label"'.outer ";outer \\([^;]*unwind_drive.py:[0-9]+\\);(.*;)?run;level1;level2;level3(;|$)") &&
		echo "merged: $s% of $(total '"$label"'.outer) outer samples" &&
		awk -v s="$s" "BEGIN { exit !(s >= 90) }"
	'
	test_expect_success "$label: sorted() with a Python key: C frames between caller and keyfn" '
		grep -v "^# " '"$label"'.folded | grep -E ";keyfn \\(" >'"$label"'.key &&
		s=$(share '"$label"'.key ";caller \\([^;]*\\);([^;(]+;)+keyfn \\(") &&
		echo "in order: $s% of $(total '"$label"'.key) keyfn samples" &&
		awk -v s="$s" "BEGIN { exit !(s >= 90) }"
	'
	# A run entered from C whose first frame is not pushed yet ran no
	# Python frame: its eval-loop call stays a native frame instead of
	# making the whole stack fall back to Python frames over the leaf.
	case $label in 3.15-*)
		test_expect_success "$label: one workload, one tower: Python stacks all start at _start" '
			grep -v "^# " '"$label"'.folded | grep -E "unwind_drive\.py:" >'"$label"'.py &&
			s=$(share '"$label"'.py "^[^;]+;_start;") &&
			echo "from _start: $s% of $(total '"$label"'.py) samples with Python frames" &&
			awk -v s="$s" "BEGIN { exit !(s >= 98) }"
		'
		;;
	esac
	case $label in 3.11-host | 3.15-*) ;; *) continue ;; esac
	for m in qsort sqlite; do
		# shellcheck disable=SC2086
		"$RAMPA" record -F 499 -o "$label.$m" -- $cmd "$WL/c_callbacks.py" $m 2 \
			2>"$label.$m.err"
	done
	test_expect_success "$label: qsort calling back into Python: sort_it;...;qsort...;cmp" '
		grep -v "^# " '"$label"'.qsort | grep -E ";cmp \(" >'"$label"'.cmp &&
		s=$(share '"$label"'.cmp ";sort_it \([^)]*\);(.*;)?ffi_call;(.*;)?qsort[^;]*;(.*;)?cmp \(") &&
		echo "in order: $s% of $(total '"$label"'.cmp) cmp samples" &&
		awk -v s="$s" "BEGIN { exit !(s >= 90) }"
	'
	test_expect_success "$label: a sqlite user function: query;...;sqlite3VdbeExec;...;udf" '
		grep -v "^# " '"$label"'.sqlite | grep -E ";udf \(" >'"$label"'.udf &&
		s=$(share '"$label"'.udf ";query \([^)]*\);(.*;)?sqlite3VdbeExec;([^;(]+;)+udf \(") &&
		echo "in order: $s% of $(total '"$label"'.udf) udf samples" &&
		awk -v s="$s" "BEGIN { exit !(s >= 90) }"
	'
done
test_done
