#!/usr/bin/env bash
# The collapsed-stack reader: other tools' files, every kind of malformed
# line (a clear error naming file:line, or skipped and counted with
# --lenient), and a million lines streamed in bounded memory.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"
FIX="$TESTS_DIR/fixtures/formats"

test_expect_success 'reads py-spy raw output with its totals' '
	"$RAMPA" report --top 4 "$FIX/pyspy.txt" >out &&
	grep -q "total 100 samples in 2 stacks" out &&
	grep -Eq "^ +87  87.00% +87  87.00%  slow \(examples/longrunning.py\)$" out &&
	grep -Eq "^ +0   0.00% +100 100.00%  longrunning \(examples/longrunning.py\)$" out
'
test_expect_success 'reads FlameGraph stackcollapse-perf output' '
	"$RAMPA" report --top 5 "$FIX/perf.folded" >out &&
	grep -Eq "^ +12  60.00% +12  60.00%  execute_command$" out &&
	grep -Eq "^ +8  40.00% +8  40.00%  ksys_read_\[k\]$" out
'
test_expect_success '# key: value lines set mode, unit, target, duration and rate' '
	"$RAMPA" report "$FIX/app.folded" >out &&
	grep -q "^# mode cpu, unit samples, target python3 app.py (pid 4242), 10.0 s, 99 Hz$" out
'
test_expect_success 'austin: its # duration is in microseconds' '
	printf "# austin: 3.6.0\n# mode: wall\nP1;T1;main (app.py:1) 300\n# duration: 5000123\n" \
		>austin.txt &&
	"$RAMPA" report austin.txt -o - >out &&
	grep -q "^# rampa-bpf: .*duration 5.000 s" out
'
test_expect_success 'blank lines, CRLF and trailing blanks are accepted' '
	printf "a;b 2\r\n\n  \na;c 3  \r\n" >crlf.folded &&
	"$TEST_TOOL" folded-read crlf.folded >out &&
	grep -q "ret=0 lines=4 stacks=2 skipped=0 first_bad=0 distinct=2 frames=3 total=5" out
'

# bad_case NAME CONTENT EXPECTED-MESSAGE: strict read fails with file:line.
bad_case() {
	test_expect_success "malformed: $1 is an error naming file and line (exit 6)" "
		printf 'ok;x 1\n$2\nok;y 2\n' >bad.folded &&
		test_expect_code 6 \"\$RAMPA\" report bad.folded >out 2>err &&
		grep -q \"bad.folded:2: $3\" err && grep -q -- --lenient err && [ ! -s out ]
	"
}
bad_case 'no count' 'a;b;c' 'no count'
bad_case 'negative count' 'a;b -5' "negative count '-5'"
bad_case 'non-numeric count' 'a;b 12abc' "count '12abc' is not a whole number"
bad_case 'fractional count' 'a;b 1.5' "count '1.5' is not a whole number"
bad_case 'empty stack' ' 7' 'empty stack'
bad_case 'empty frame' 'a;;b 7' 'empty frame 2'
bad_case 'invalid UTF-8' 'a;\xc3\x28;b 7' 'invalid UTF-8'
bad_case 'overlong UTF-8' 'a;\xc0\xaf 7' 'invalid UTF-8'
bad_case 'count over 2^53' 'a;b 99999999999999999999' 'count too large'

test_expect_success 'malformed: a frame over 4096 bytes' '
	{ echo "a 1"; printf "a;%05000d 3\n" 0; } >long.folded &&
	test_expect_code 6 "$RAMPA" report long.folded 2>err &&
	grep -q "long.folded:2: frame 2 is longer than 4096 bytes" err
'
test_expect_success '--lenient skips malformed lines, counts them, keeps the rest' '
	printf "%s\n" "a;b 1" "a;b" "a;b -2" "x 1.5" " 3" "a;;b 1" "a;c 4" >mixed.folded &&
	printf "a;\xff 1\n" >>mixed.folded &&
	"$TEST_TOOL" folded-read mixed.folded lenient >out 2>err &&
	grep -q "ret=0 lines=8 stacks=2 skipped=6 first_bad=2 distinct=2 frames=3 total=5" out &&
	grep -q "mixed.folded: skipped 6 malformed lines (first: line 2: no count" err &&
	"$RAMPA" report --lenient --top 2 mixed.folded >out 2>err &&
	grep -q "total 5 samples in 2 stacks" out
'
test_expect_success 'a file with no samples is an input error' '
	printf "# just a comment\n\n" >empty.folded &&
	test_expect_code 6 "$RAMPA" report empty.folded 2>err && grep -q "holds no samples" err
'
test_expect_success 'a missing input file is an input error (6)' '
	test_expect_code 6 "$RAMPA" report nonexistent.folded 2>err &&
	grep -q "cannot open .nonexistent.folded.: No such file" err
'
test_expect_success '1,000,000 lines stream in bounded memory with exact totals' '
	awk "BEGIN { for (i = 0; i < 1000000; i++)
		printf \"proc;mod%d;func%d;leaf%d %d\n\", i % 7, i % 100, i % 1000, 1 + i % 5 }" \
		>big.folded &&
	"$TEST_TOOL" folded-read big.folded >out &&
	grep -q "ret=0 lines=1000000 stacks=1000000 skipped=0 first_bad=0 distinct=7000" out &&
	grep -q "total=3000000 " out &&
	rss=$(sed -n "s/.*maxrss_kb=//p" out) && echo "peak RSS $rss kB" && [ "$rss" -lt 20000 ]
'
test_expect_success 'flame graphs and diffs of deep distinct stacks take memory per stack, not per call path' '
	# 100,000 distinct stacks 40 frames deep, 22 MB, about 3 million call
	# paths: a tree node per call path took 280 MB, the stacks take 16 MB.
	awk "BEGIN { srand(5); for (l = 0; l < 100000; l++) { s = \"main\"; node = 1
		for (d = 1; d < 40; d++) { node = (node * 3 + int(rand() * 3)) % 16777213
			s = s \";f\" (node * 40503) % 2000 }
		print s, 1 + l % 7 } }" >deep.folded &&
	"$TEST_TOOL" maxrss "$RAMPA" report -q deep.folded -o deep.svg 2>err &&
	rss=$(sed -n "s/^maxrss_kb=//p" err) && echo "report peak RSS $rss kB" &&
	[ "$rss" -lt 100000 ] &&
	"$TEST_TOOL" maxrss "$RAMPA" diff -q deep.folded deep.folded -o deep-diff.svg >/dev/null 2>err &&
	rss=$(sed -n "s/^maxrss_kb=//p" err) && echo "diff peak RSS $rss kB" &&
	[ "$rss" -lt 100000 ] && grep -q "<svg" deep-diff.svg
'
test_expect_success 'lines sharing prefixes split into the right frames' '
	{ printf "%s\n" "a;bc 1" "a;b;c 2" "a;b 4" "ab;c 8" "a;b;c;d 16" "a;b;cd 32" "a;b;c 64"
	  printf "a;b;c\xff 1\n"; echo "a;b;c;e 128"; } >prefix.folded &&
	"$RAMPA" report -q --lenient prefix.folded -o out.folded 2>err &&
	printf "%s\n" "a;b 4" "a;b;c 66" "a;b;c;d 16" "a;b;c;e 128" "a;b;cd 32" "a;bc 1" "ab;c 8" \
		>expect && grep -v "^#" out.folded >got && diff -u expect got &&
	grep -q "first: line 8: invalid UTF-8" err
'
test_expect_success 'sorted and shuffled input give the same profile' '
	awk "BEGIN { srand(3); for (i = 0; i < 20000; i++) { s = \"r\"; d = 1 + int(rand() * 8)
		for (j = 0; j < d; j++) s = s \";f\" int(rand() * 4); print s, 1 + int(rand() * 9) } }" \
		>shuf.folded &&
	LC_ALL=C sort shuf.folded >sorted.folded &&
	"$RAMPA" report -q --target t shuf.folded -o a.folded &&
	"$RAMPA" report -q --target t sorted.folded -o b.folded && cmp a.folded b.folded &&
	awk "{ n = \$NF; sub(/ [0-9]+\$/, \"\"); t[\$0] += n } END { for (k in t) print k, t[k] }" \
		shuf.folded | LC_ALL=C sort >expect && grep -v "^#" a.folded >got && diff -u expect got
'
test_expect_success 'a 64 MiB line is refused without reading it into memory' '
	{ echo "a 1"; head -c 67108864 /dev/zero | tr "\0" x; echo " 5"; echo "b 2"; } >huge.folded &&
	"$TEST_TOOL" folded-read huge.folded lenient >out 2>err &&
	grep -q "lines=3 stacks=2 skipped=1 first_bad=2" out && grep -q "longer than 1 MiB" err &&
	rss=$(sed -n "s/.*maxrss_kb=//p" out) && echo "peak RSS $rss kB" && [ "$rss" -lt 20000 ] &&
	test_expect_code 1 "$TEST_TOOL" folded-read huge.folded >out 2>err &&
	grep -q "huge.folded:2: line longer than 1 MiB" err
'
test_expect_success "austin's line markers are merged into their frame, not taken as functions" '
	printf "%s\n" "P42;T7;<module> (app.py);L10;main (app.py);L5;compute (app.py);L20 50" \
		"P42;T7;<module> (app.py);L10;main (app.py);L5;compute (app.py);L21 30" \
		"P42;T7;<module> (app.py);L10;main (app.py);L6 20" "P42;T7;L3 1" >austin.txt &&
	"$RAMPA" report -q austin.txt -o - | grep -v "^#" >got &&
	printf "%s\n" "P42;T7;<module> (app.py:10);main (app.py:5);compute (app.py:20) 50" \
		"P42;T7;<module> (app.py:10);main (app.py:5);compute (app.py:21) 30" \
		"P42;T7;<module> (app.py:10);main (app.py:6) 20" "P42;T7;L3 1" >expect &&
	diff -u expect got &&
	"$RAMPA" report --top 9 austin.txt >top && ! grep -Eq "  L(5|6|10|20|21)$" top &&
	grep -Eq "^ +80 +79.21% +80 +79.21%  compute \(app.py\)$" top
'
test_done
