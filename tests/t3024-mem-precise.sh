#!/usr/bin/env bash
# rampa-bpf mem --precise: uprobes on glibc's allocator. Growth is what was
# allocated and not freed, by the stack that allocated it: with a function
# that leaks through glibc's heap in pages another one churned through first,
# the leaker gets the growth (the default mode, by first touch, gives it to
# the churner and says so); a C library's leaks under its Python caller;
# frees that balance allocations leave no growth; a full block map is
# counted; a fault on a transparent huge page counts all of it; small
# objects (pymalloc's arenas) are attributed; a command's first
# milliseconds are seen. On 3.9, 3.11, 3.13 and 3.15. Shares known by
# construction.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t3024.XXXXXX)
cp "$TESTS_DIR"/workloads/mem_*.py "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT

# wait_long SECONDS CMD...: poll CMD until it succeeds, up to SECONDS (attach
# takes long on a loaded machine).
wait_long() {
	local i n=$(($1 * 10))
	shift
	for i in $(seq $n); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# attach_precise LABEL WORKLOAD CMD...: run WORKLOAD (mem_heap_churn.py...)
# under CMD, waiting for a start file; attach mem --precise by -p (the
# interpreter itself, once it runs), then let the workload start. Writes
# LABEL.pc and LABEL.pc.err.
attach_precise() {
	local label=$1 wl=$2 go="$WL/go.$1" pid rp
	shift 2
	rm -f "$go"
	"$@" "$WL/$wl" 1 "$go" &
	pid=$!
	bg_track $pid
	wait_long 20 sh -c "readlink /proc/$pid/exe | grep -q python" || return 1
	"$RAMPA" mem --precise -p $pid -d 120 -o "$TRASH/$label.pc" 2>"$TRASH/$label.pc.err" &
	rp=$!
	wait_long 60 grep -q "measuring memory growth" "$TRASH/$label.pc.err" || return 1
	touch "$go"
	wait $rp
}

declare -A seen
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	case $label in 3.9* | 3.11* | 3.13* | 3.15*) ;; *) continue ;; esac
	v=$(echo "$label" | grep -Eo '^3\.[0-9]+')
	[ -n "${seen[$v]:-}" ] && continue
	seen[$v]=1
	# shellcheck disable=SC2086
	attach_precise "$label" mem_heap_churn.py $cmd
	test_expect_success "$label: --precise: leak() retains >= 80% of the growth, churn() <= 10%" '
		cat '"$label"'.pc.err &&
		l=$(share '"$label"'.pc ";leak \\(") && c=$(share '"$label"'.pc ";churn \\(") &&
		t=$(total '"$label"'.pc) && echo "leak=$l% churn=$c% total=$t bytes" &&
		awk -v l="$l" -v c="$c" -v t="$t" "BEGIN { exit !(l >= 80 && c <= 10 &&
			t > 80 * 1048576 && t < 200 * 1048576) }" &&
		grep -q "^# rampa-bpf: .*mode mem, unit bytes" '"$label"'.pc &&
		grep -q "mem --precise: allocator probes (glibc) in 1 process" '"$label"'.pc.err
	'
done
for v in 3.9 3.11 3.13 3.15; do
	[ -n "${seen[$v]:-}" ] || say "no $v interpreter in the matrix"
done

# Small objects come from pymalloc's arenas, which it maps itself (mmap, not
# malloc): before they were followed, --precise saw only the list's own
# malloc (~5 MiB of the ~120 MiB leak() keeps).
declare -A small
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	case $label in 3.9* | 3.11* | 3.13* | 3.15*) ;; *) continue ;; esac
	v=$(echo "$label" | grep -Eo '^3\.[0-9]+')
	[ -n "${small[$v]:-}" ] && continue
	small[$v]=1
	# shellcheck disable=SC2086
	attach_precise "$label.small" mem_small.py $cmd
	test_expect_success "$label: --precise: small objects: leak() >= 80% of the growth, churn() <= 10%" '
		cat '"$label"'.small.pc.err &&
		l=$(share '"$label"'.small.pc ";leak \\(") &&
		c=$(share '"$label"'.small.pc ";churn[ .]") && t=$(total '"$label"'.small.pc) &&
		echo "leak=$l% churn=$c% total=$t bytes" &&
		awk -v l="$l" -v c="$c" -v t="$t" "BEGIN { exit !(l >= 80 && c <= 10 &&
			t > 80 * 1048576 && t < 250 * 1048576) }" &&
		grep -Eq "mappings +[1-9][0-9]* anonymous mappings made outside the allocator" \
			'"$label"'.small.pc.err
	'
done

# Mappings made outside the allocator are blocks kept by range: one grown by
# mremap (moved on the way) goes to what grew it, a part unmapped or a
# mapping shrunk is freed, a bytearray doubled (glibc's realloc, by mremap)
# to its caller. Before, a grown mapping kept its first size (64 MiB grown
# by mremap: 1 MiB) and a munmap of a mapping's first part freed it whole.
declare -A resized
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	case $label in 3.9* | 3.11* | 3.13* | 3.15*) ;; *) continue ;; esac
	v=$(echo "$label" | grep -Eo '^3\.[0-9]+')
	[ -n "${resized[$v]:-}" ] && continue
	resized[$v]=1
	# shellcheck disable=SC2086
	attach_precise "$label.rs" mem_resize.py $cmd
	test_expect_success "$label: --precise: a bytearray doubled, mmap.resize up and down" '
		cat '"$label"'.rs.pc.err && b=$(mib '"$label"'.rs.pc ";grow_bytes \\(") &&
		g=$(mib '"$label"'.rs.pc ";grow_mmap \\(") &&
		s=$(mib '"$label"'.rs.pc ";shrink_mmap \\(") &&
		echo "grow_bytes=$b grow_mmap=$g shrink_mmap=$s MiB" &&
		within "$b" 66 3 && within "$g" 64 3 && within "$s" 32 1 &&
		grep -Eq "[1-9][0-9]* resized by mremap" '"$label"'.rs.pc.err
	'
done

test_expect_success '--precise: mremap and a partial munmap of mappings (C)' '
	gcc -O2 -g -o "$WL/mem_remap" "$TESTS_DIR/workloads/mem_remap.c" &&
	"$RAMPA" mem --precise -o remap.folded -- "$WL/mem_remap" 0.3 2>remap.err &&
	cat remap.err && g=$(mib remap.folded ";grow_mapping") &&
	h=$(mib remap.folded ";halve_mapping") && s=$(mib remap.folded ";shrink_mapping") &&
	echo "grow_mapping=$g halve_mapping=$h shrink_mapping=$s MiB" &&
	within "$g" 64 3 && within "$h" 32 1 && within "$s" 16 1 &&
	grep -Eq "[1-9][0-9]* munmaps of other ranges" remap.err
'

PY=/root/.pyenv/versions/3.11.7/bin/python3.11
[ -x $PY ] || PY=/usr/bin/python3.11

test_expect_success 'default mode: first touch credits churn(), and the summary says so' '
	"$RAMPA" mem -o first.folded -- /usr/bin/python3.11 "$WL/mem_heap_churn.py" 0.3 \
		2>first.err && cat first.err &&
	c=$(share first.folded ";churn \\(") && echo "churn=$c%" &&
	awk -v c="$c" "BEGIN { exit !(c >= 50) }" &&
	grep -q "first touched" first.err && grep -q -- "--precise" first.err
'

test_expect_success '--precise: a C library leaking malloc blocks, under its Python caller' '
	gcc -O1 -g -fno-omit-frame-pointer -shared -fPIC -o "$WL/libmemleak.so" \
		"$TESTS_DIR/workloads/mem_leak.c" &&
	"$RAMPA" mem --precise -o leak.folded -- $PY "$WL/mem_leak.py" "$WL/libmemleak.so" 0.3 \
		2>leak.err && cat leak.err &&
	l=$(share leak.folded "leaky_caller \\(.*;leak_blocks") &&
	c=$(share leak.folded "churn_caller|churn_blocks") && t=$(total leak.folded) &&
	echo "leak=$l% churn=$c% total=$t" &&
	awk -v l="$l" -v c="$c" -v t="$t" "BEGIN { exit !(l >= 80 && c <= 10 &&
		t > 60 * 1048576 && t < 110 * 1048576) }"
'

test_expect_success '--precise: frees that balance allocations leave ~0 growth' '
	"$RAMPA" mem --precise -o bal.folded -- $PY "$WL/mem_balanced.py" 0.3 2>bal.err &&
	cat bal.err && t=$(total bal.folded) && w=$(share bal.folded ";work[ .]") &&
	echo "retained=$t bytes, work=$w%" &&
	# 600 MiB churned. What stays: a few sampled blocks of the interpreter
	# (256 KiB each) and its arenas (1 MiB) holding what imports made;
	# under work(), at most the empty arena pymalloc keeps and one its free
	# lists pin (2 MiB).
	[ "$t" -le $((12 * 1048576)) ] &&
	awk -v w="$w" -v t="$t" "BEGIN { exit !(w * t / 100 <= 2 * 1048576) }" &&
	grep -Eq "churn\(obtained|churn \(obtained and given back\)" bal.err &&
	sed -n "/top churn/,/wrote/p" bal.err | grep -q "work"
'

# With -- CMD, the allocator is probed before the exec (the libc the fork
# maps, which the new image maps too): a program that leaks all it leaks in
# its first milliseconds (64 MiB) is seen whole. Probed after the exec's
# event was handled, 15 MiB of it went unseen.
test_expect_success '--precise -- CMD: allocations from the first milliseconds after exec' '
	gcc -O2 -g -o "$WL/mem_early" "$TESTS_DIR/workloads/mem_early.c" &&
	"$RAMPA" mem --precise -o early.folded -- "$WL/mem_early" 0.3 2>early.err &&
	cat early.err && e=$(share early.folded ";early_leak") && t=$(total early.folded) &&
	echo "early_leak=$e% total=$t bytes" &&
	awk -v e="$e" -v t="$t" "BEGIN { exit !(e >= 95 && t >= 64 * 1048576 &&
		t < 72 * 1048576) }" &&
	grep -q "allocator probes (glibc) in 1 process" early.err
'

test_expect_success '--precise: a full block map is counted, not silent' '
	"$RAMPA" mem --precise --max-blocks 2000 -o full.folded -- \
		$PY "$WL/mem_heap_churn.py" 0.3 2>full.err; cat full.err &&
	n=$(sed -n "s/.*allocations not tracked: block map full (--max-blocks) *\([0-9][0-9]*\).*/\1/p" full.err) &&
	echo "not tracked: $n" && [ "${n:-0}" -gt 10000 ]
'

grep -q "\[never\]" /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null ||
	test_set_prereq THP
test_expect_success THP 'a fault on a transparent huge page counts the huge page' '
	"$RAMPA" mem --fault-sample 1 -o thp.folded -- $PY "$WL/mem_thp.py" 0.3 2>thp.err &&
	cat thp.err && h=$(share thp.folded ";huge \(") && t=$(total thp.folded) &&
	echo "huge=$h% total=$t" &&
	# 64 MiB written in 2 MiB huge pages: 32 faults
	awk -v h="$h" -v t="$t" "BEGIN { exit !(h * t / 100 >= 48 * 1048576 &&
		h * t / 100 <= 70 * 1048576) }" &&
	grep -Eq "[0-9]+ sampled faults mapped a transparent huge page" thp.err
'

test_expect_success '--precise: options that need it, or do not go with it' '
	test_expect_code 2 "$RAMPA" mem --sample-bytes 1M -- true 2>e1 &&
	grep -q "go with --precise" e1 &&
	test_expect_code 2 "$RAMPA" mem --precise --fault-sample 8 -- true 2>e2 &&
	grep -q "does not go with --precise" e2 &&
	test_expect_code 2 "$RAMPA" mem --precise --sample-bytes 0 -- true 2>e3 &&
	grep -q "invalid --sample-bytes" e3
'

test_done
