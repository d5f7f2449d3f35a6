#!/usr/bin/env bash
# rampa-bpf mem: retained growth goes to the stacks that faulted the pages in
# and still hold them; memory given back (munmap, a trimmed heap) is churn,
# not growth; --max-peak and --max-growth fail with their exit status (8, 9)
# and name the stacks that grew. Shares known by construction, on 3.9, 3.11,
# 3.13 and 3.15.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t3023.XXXXXX)
cp "$TESTS_DIR"/workloads/mem_*.py "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT

# One interpreter of each version the issue names: 3.9, 3.11, 3.13, 3.15.
declare -A seen
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	case $label in 3.9* | 3.11* | 3.13* | 3.15*) ;; *) continue ;; esac
	v=$(echo "$label" | grep -Eo '^3\.[0-9]+')
	[ -n "${seen[$v]:-}" ] && continue
	seen[$v]=1
	# shellcheck disable=SC2086
	"$RAMPA" mem -o "$TRASH/$label.gc" -- $cmd "$WL/mem_grow_churn.py" 0.5 \
		2>"$TRASH/$label.gc.err"
	test_expect_success "$label: grow() retains >= 80% of the growth, churn() <= 10%" '
		cat '"$label"'.gc.err &&
		g=$(share '"$label"'.gc ";grow \\(") && c=$(share '"$label"'.gc ";churn \\(") &&
		t=$(total '"$label"'.gc) && echo "grow=$g% churn=$c% total=$t bytes" &&
		awk -v g="$g" -v c="$c" -v t="$t" "BEGIN { exit !(g >= 80 && c <= 10 &&
			t > 80 * 1048576 && t < 200 * 1048576) }" &&
		grep -q "^# rampa-bpf: .*mode mem, unit bytes" '"$label"'.gc &&
		grep -Eq "churn \(obtained and given back\)" '"$label"'.gc.err
	'
done
for v in 3.9 3.11 3.13 3.15; do
	[ -n "${seen[$v]:-}" ] || say "no $v interpreter in the matrix"
done

PY=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x $PY ] || PY=/usr/bin/python3.11

test_expect_success 'a C library leaking malloc blocks: under its native function and Python caller' '
	gcc -O1 -g -fno-omit-frame-pointer -shared -fPIC -o "$WL/libmemleak.so" \
		"$TESTS_DIR/workloads/mem_leak.c" &&
	"$RAMPA" mem -o leak.folded -- $PY "$WL/mem_leak.py" "$WL/libmemleak.so" 0.5 2>leak.err &&
	cat leak.err && l=$(share leak.folded "leaky_caller \\(.*;leak_blocks") &&
	c=$(share leak.folded "churn_caller|churn_blocks") && echo "leak=$l% churn=$c%" &&
	awk -v l="$l" -v c="$c" "BEGIN { exit !(l >= 80 && c <= 10) }"
'

test_expect_success 'memory given back (heap trimmed, munmap) is churn, not growth' '
	"$RAMPA" mem -o back.folded -- $PY "$WL/mem_give_back.py" 1 2>back.err && cat back.err &&
	k=$(share back.folded ";keep \\(") && g=$(share back.folded ";give_back \\(") &&
	t=$(total back.folded) && echo "keep=$k% give_back=$g% total=$t" &&
	# keep() retains 32 MiB: 128 samples of 256 KiB, +-11 (Poisson); the
	# interpreter keeps a few MiB of its own, so keep is ~90% of the total.
	awk -v k="$k" -v g="$g" -v t="$t" "BEGIN { exit !(k * t / 100 >= 0.7 * 32 * 1048576 &&
		k >= 70 && g <= 10 && t < 64 * 1048576) }" &&
	grep -Eq "churn \(obtained and given back\):" back.err &&
	sed -n "/top churn/,/wrote/p" back.err | grep -q "give_back ("
'

# Mappings grown, moved and shrunk by mremap, and partly unmapped: pages
# follow their mapping (tests/workloads/mem_remap.c, mem_resize.py: MiB
# known by construction; 1 fault in 8 sampled, 256 KiB... 32 KiB each).
test_expect_success 'mremap and a partial munmap: a mapping keeps what it keeps (C)' '
	gcc -O2 -g -o "$WL/mem_remap" "$TESTS_DIR/workloads/mem_remap.c" &&
	"$RAMPA" mem --fault-sample 8 -o remap.folded -- "$WL/mem_remap" 0.3 2>remap.err &&
	cat remap.err && g=$(mib remap.folded ";grow_mapping") &&
	h=$(mib remap.folded ";halve_mapping") && s=$(mib remap.folded ";shrink_mapping") &&
	echo "grow_mapping=$g halve_mapping=$h shrink_mapping=$s MiB" &&
	within "$g" 64 8 && within "$h" 32 4 && within "$s" 16 2.5
'

test_expect_success 'a bytearray grown by realloc, mmap.resize up and down (Python)' '
	"$RAMPA" mem --fault-sample 8 -o resize.folded -- $PY "$WL/mem_resize.py" 0.3 \
		2>resize.err && cat resize.err && b=$(mib resize.folded ";grow_bytes \\(") &&
	g=$(mib resize.folded ";grow_mmap \\(") && s=$(mib resize.folded ";shrink_mmap \\(") &&
	echo "grow_bytes=$b grow_mmap=$g shrink_mmap=$s MiB" &&
	within "$b" 66 8 && within "$g" 64 8 && within "$s" 32 4
'

# The summary says how much of the RSS growth the stacks hold: all of it for
# a leaker (the churn given back), within the sampling spread.
test_expect_success 'the summary: the stacks account for the RSS growth of a leaker' '
	"$RAMPA" mem -o acct.folded -- $PY "$WL/mem_grow_churn.py" 0.5 2>acct.err &&
	cat acct.err &&
	p=$(sed -n "s/.*growth accounted for: .*, \([0-9.]*\)% of the RSS growth.*/\1/p" acct.err) &&
	echo "attributed: $p% of the RSS growth" &&
	awk -v p="$p" "BEGIN { exit !(p >= 80 && p <= 120) }" &&
	grep -Eq "RSS growth \(start -> end\): \+1[0-9][0-9](\.[0-9]*)? MiB: anonymous" acct.err
'

# Pages the kernel writes for the process (read() into a fresh buffer) come
# without a fault of its own: they were not seen, and a file read whole was
# no one's growth (0 of 64 MiB; the summary said the stacks held 4% of it).
test_expect_success 'a file read whole into new memory: growth of the reader' '
	truncate -s 64M "$WL/blob" &&
	"$RAMPA" mem --fault-sample 8 -o read.folded -- $PY "$WL/mem_read.py" "$WL/blob" 0.3 \
		2>read.err && cat read.err && l=$(mib read.folded ";load \\(") &&
	echo "load=$l MiB" && within "$l" 64 8
'

test_expect_success 'mem asks for its own map sizes: the sampler it does not run gets one entry' '
	"$RAMPA" mem -v -o sizes.folded -- true 2>sizes.err &&
	grep -qx "rampa-bpf: debug: map size stacks=1" sizes.err &&
	grep -qx "rampa-bpf: debug: map size counts=1" sizes.err &&
	grep -qx "rampa-bpf: debug: map size mem-stacks=16384" sizes.err
'
test_expect_success '--max-growth: a steady program passes' '
	test_when_finished "cat steady.err" &&
	"$RAMPA" mem --max-growth 10M/min -o steady.folded -- $PY "$WL/mem_rates.py" steady 6 \
		2>steady.err &&
	grep -q -- "--max-growth 10M/min: passed" steady.err
'

test_expect_success '--max-growth: a slow leak fails with status 9, naming leak_slowly' '
	test_when_finished "cat slow.err" &&
	test_expect_code 9 "$RAMPA" mem --max-growth 10M/min -o slow.folded -- \
		$PY "$WL/mem_rates.py" leak 6 2>slow.err &&
	grep -q "above --max-growth 10M/min" slow.err &&
	sed -n "/the stacks that grew/,\$p" slow.err | grep -q "leak_slowly ("
'

test_expect_success '--max-peak: fails with status 8 above the limit, passes below' '
	test_when_finished "cat peak.err" &&
	test_expect_code 8 "$RAMPA" mem --max-peak 64M -o peak.folded -- \
		$PY "$WL/mem_grow_churn.py" 0.3 2>peak.err &&
	grep -q "above --max-peak 64.0 MiB" peak.err &&
	sed -n "/the stacks that grew/,\$p" peak.err | grep -q "grow (" &&
	"$RAMPA" mem -q --max-peak 4G -o peak2.folded -- $PY "$WL/mem_grow_churn.py" 0.3
'

# Pages shared after a fork are each process's RSS: summed, they were counted
# four times and a 100 MiB pre-fork server failed --max-peak 200M at 423 MiB.
test_expect_success '--max-peak: pages a fork shares are counted once (PSS)' '
	"$RAMPA" mem --max-peak 200M -o prefork.folded -- $PY "$WL/mem_prefork.py" 2 \
		2>prefork.err; r=$?; cat prefork.err; [ $r -eq 0 ] &&
	grep -q "memory of the targets (RSS; their PSS summed while several ran)" prefork.err &&
	peak=$(sed -n "s/.*, peak \([0-9.]*\) MiB.*/\1/p" prefork.err) &&
	awk -v p="$peak" "BEGIN { exit !(p >= 95 && p < 140) }"
'

# PSS is read one process after the other: workers exiting between two reads
# made their shared pages count in the processes read before and after, and
# the 110 MiB tree read up to 148 MiB (3 of 9 runs of this above 120 MiB).
test_expect_success '--max-peak: workers exiting together while PSS is read' '
	"$RAMPA" mem -o cycles.folded -- $PY "$WL/mem_prefork.py" 0.3 20 2>cycles.err; r=$?
	cat cycles.err; [ $r -eq 0 ] &&
	peak=$(sed -n "s/.*, peak \([0-9.]*\) MiB.*/\1/p" cycles.err) &&
	awk -v p="$peak" "BEGIN { exit !(p >= 95 && p < 120) }"
'

# Only the shutdown's fall at the end is left out of the curve: a child that
# exited a second before was cut along with it (end 56.5 MiB, and
# --max-growth failed on a tree whose memory fell).
test_expect_success 'a child that exits before the end: the curve keeps the fall' '
	"$RAMPA" mem --max-growth 100M/min -o child.folded -- $PY "$WL/mem_child.py" 2 \
		2>child.err; r=$?; cat child.err; [ $r -eq 0 ] &&
	end=$(sed -n "s/.*, end \([0-9.]*\) MiB.*/\1/p" child.err) &&
	peak=$(sed -n "s/.*, peak \([0-9.]*\) MiB.*/\1/p" child.err) &&
	awk -v e="$end" -v p="$peak" "BEGIN { exit !(p > 50 && e < 25) }"
'

# A child forked without exec shares its parent's mappings: its first faults
# are walked by the parent's unwind tables (they waited for the first miss,
# and the child's growth stood under a second root, leaf only).
test_expect_success 'children forked without exec: their growth under their whole stack' '
	gcc -O2 -fomit-frame-pointer -o "$WL/mem_fork" "$TESTS_DIR/workloads/mem_fork.c" &&
	"$RAMPA" mem --fault-sample 1 -o fork.folded -- "$WL/mem_fork" 2>fork.err &&
	grep -v "^#" fork.folded | grep ";child_keep" >ck && cat ck | cut -c1-200 &&
	s=$(share ck "^mem_fork;_start;__libc_start_main[^;]*;__libc_start_call_main[^;]*;main[^;]*;child_keep") &&
	echo "whole: $s% of child_keep bytes" && awk -v s="$s" "BEGIN { exit !(s >= 90) }"
'

test_expect_success 'a target that exits mid-run keeps what was measured' '
	{ $PY "$WL/mem_grow_churn.py" 1 & } && pid=$! && bg_track $pid &&
	"$RAMPA" mem -p $pid -d 60 -o gone.folded 2>gone.err; cat gone.err &&
	grep -q "target exited" gone.err &&
	g=$(share gone.folded ";grow \\(") && t=$(total gone.folded) && echo "grow=$g% total=$t" &&
	awk -v g="$g" -v t="$t" "BEGIN { exit !(g >= 80 && t > 40 * 1048576) }"
'

test_done
