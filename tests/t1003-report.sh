#!/usr/bin/env bash
# rampa-bpf report: the top table, format choice, headers that say what the
# profile is, atomic output.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
FIX="$TESTS_DIR/fixtures/formats"

test_expect_success 'report --help documents every option' '
	"$RAMPA" report --help >out &&
	for o in --output --format --top --sort --lenient --mode --unit --target --duration --hz; do
		grep -q -- "$o" out || { echo "missing $o"; exit 1; }
	done
'
test_expect_success 'rampa-bpf --help lists report and diff' '
	"$RAMPA" --help >out && grep -q "^  report " out && grep -q "^  diff " out
'
test_expect_success '--top: self and total per function, Python lines merged' '
	"$RAMPA" report --top 4 "$FIX/app.folded" >out &&
	cat >expect <<-\EOT &&
	          SELF   SELF%          TOTAL  TOTAL%  FUNCTION
	           500  50.00%            650  65.00%  compute (/srv/app/app.py)
	           300  30.00%            300  30.00%  encode (/usr/lib/python3.11/json/encoder.py)
	           150  15.00%            150  15.00%  cblas_dgemm
	            50   5.00%             50   5.00%  tcp_recvmsg_[k]
	EOT
	tail -n +3 out >got && diff -u expect got &&
	grep -q "total 1000 samples in 4 stacks, 15 functions; by self" out
'
test_expect_success 'time profiles read in us, ms and s; the machine formats keep microseconds' '
	printf "%s\n" "p;a 3004143" "p;b 11964628" "p;c 850" "p;d 12" >us.folded &&
	"$RAMPA" report --mode wall --top 4 us.folded >out && cat out &&
	grep -q "^# total 15.0 s in 4 stacks" out &&
	grep -Eq "^ +12.0 s +79.93% +12.0 s +79.93%  b$" out &&
	grep -Eq "^ +3.00 s +20.07% +3.00 s +20.07%  a$" out &&
	grep -Eq "^ +850 us +0.01% +850 us +0.01%  c$" out &&
	grep -Eq "^ +12.0 us +0.00% +12.0 us +0.00%  d$" out &&
	"$RAMPA" report --mode wall us.folded -o us.svg 2>err &&
	grep -q "wrote us.svg (svg, 4 stacks, 15.0 s)" err &&
	grep -q "total 15.0 s</text>" us.svg && grep -q "^12.0 s (79.93%), self 12.0 s, native</title>" us.svg &&
	"$RAMPA" report -q --mode wall us.folded -o us2.folded && grep -qx "p;b 11964628" us2.folded
'
test_expect_success '--top --sort total orders by inclusive weight' '
	"$RAMPA" report --top 3 --sort total "$FIX/app.folded" >out &&
	sed -n 4,6p out | awk "{ print \$3, \$NF }" >got &&
	printf "%s\n" "1000 python3" "950 MainThread-4242" "950 (/srv/app/app.py)" >expect &&
	diff -u expect got
'
test_expect_success 'format from the extension, or from --format' '
	"$RAMPA" report -q "$FIX/app.folded" -o a.svg &&
	"$RAMPA" report -q "$FIX/app.folded" -o a.speedscope.json &&
	"$RAMPA" report -q "$FIX/app.folded" -o a.pb.gz &&
	"$RAMPA" report -q "$FIX/app.folded" -o a.folded &&
	"$RAMPA" report -q "$FIX/app.folded" -o svg.out --format svg &&
	head -c 5 a.svg | grep -q "<?xml" && cmp a.svg svg.out &&
	head -c 64 a.speedscope.json | grep -q "speedscope.app" &&
	[ "$(head -c 2 a.pb.gz | od -An -tx1 | tr -d " ")" = 1f8b ] &&
	grep -v "^#" "$FIX/app.folded" | LC_ALL=C sort >expect && grep -v "^#" a.folded >got &&
	diff -u expect got
'
test_expect_success 'the folded output round-trips through report' '
	"$RAMPA" report -q "$FIX/app.folded" -o a.folded &&
	"$RAMPA" report -q a.folded -o b.folded && cmp a.folded b.folded
'
test_expect_success '-o - writes to stdout' '
	"$RAMPA" report "$FIX/pyspy.txt" -o - --format folded >out &&
	[ "$(wc -l <out)" -eq 3 ] && grep -q " 87$" out
'
test_expect_success 'the folded header: what the profile is, skipped by other readers' '
	"$RAMPA" report -q "$FIX/app.folded" -o h.folded &&
	head -1 h.folded >hdr && cat hdr &&
	grep -qx "# rampa-bpf: target \"python3 app.py (pid 4242)\", mode cpu, unit samples, duration 10.000 s, rate 99 Hz" hdr &&
	! grep -Eq "^(.*) ([0-9]+)\$" hdr && ! grep -Eq "^(.*)\s+?([0-9]+(\.[0-9]*)?)\$" hdr &&
	[ "$(awk "{ t += \$NF } END { print t }" h.folded)" -eq 1000 ] &&
	printf "a 1\n" | "$RAMPA" report - --mode wall --hz 250 --duration 2s -o - -f folded >s.folded &&
	grep -qx "# rampa-bpf: target \"stdin\", mode wall, unit microseconds, duration 2.000 s, rate 250 Hz" s.folded &&
	"$RAMPA" report s.folded | grep -q "^# mode wall, unit microseconds, target stdin, 2.0 s, 250 Hz$"
'
test_expect_success 'unknown format and --format without -o are usage errors' '
	test_expect_code 2 "$RAMPA" report "$FIX/app.folded" -o x --format gif 2>err &&
	grep -q "unknown format .gif. (supported: folded, svg, speedscope, pprof, pstats, gecko)" err &&
	test_expect_code 2 "$RAMPA" report "$FIX/app.folded" --format svg 2>err &&
	test_expect_code 2 "$RAMPA" report 2>err && grep -q "no input" err &&
	test_expect_code 2 "$RAMPA" report a b 2>err &&
	test_expect_code 2 "$RAMPA" report --top 0 "$FIX/app.folded" 2>err &&
	test_expect_code 2 "$RAMPA" report --mode sleepy "$FIX/app.folded" 2>err &&
	grep -q "unknown mode .sleepy." err
'
test_expect_success 'every format says mode, unit, target, duration and rate' '
	hdr="mode wall, unit microseconds, target checkout-svc, 30.0 s, 49 Hz" &&
	for f in a.svg a.speedscope.json a.pb.gz a.folded; do
		"$RAMPA" report -q "$FIX/pyspy.txt" --mode wall --target checkout-svc \
			--duration 30s --hz 49 -o $f || exit 1
	done &&
	grep -q "$hdr" a.svg && grep -q "Wall-clock flame graph" a.svg &&
	grep -q "\"name\":\"$hdr\"" a.speedscope.json &&
	zcat a.pb.gz | grep -aq "$hdr" &&
	grep -q "^# rampa-bpf: target \"checkout-svc\", mode wall, unit microseconds, duration 30.000 s, rate 49 Hz$" a.folded
'
test_expect_success 'an unwritable output fails with 5 and leaves nothing behind' '
	mkdir ro && chmod 555 ro &&
	if [ "$(id -u)" -eq 0 ]; then out=/proc/version.svg; else out=ro/x.svg; fi &&
	test_expect_code 5 "$RAMPA" report -q "$FIX/app.folded" -o $out 2>err &&
	grep -q "cannot write output" err && [ -z "$(ls -A ro)" ] &&
	test_expect_code 5 "$RAMPA" report -q "$FIX/app.folded" -o ro 2>err && grep -q "is a directory" err
'
test_expect_success 'a symlink or FIFO output is refused, or written through with --output-in-place' '
	ln -s real.svg link.svg && test_expect_code 5 "$RAMPA" report -q "$FIX/app.folded" -o link.svg 2>/dev/null &&
	[ ! -e real.svg ] && : >real.svg &&
	"$RAMPA" report -q --output-in-place "$FIX/app.folded" -o link.svg &&
	[ -L link.svg ] && grep -q "CPU flame graph" real.svg &&
	mkfifo pipe.folded && { cat pipe.folded >got.folded & } &&
	"$RAMPA" report -q --output-in-place "$FIX/pyspy.txt" -o pipe.folded && wait &&
	[ -p pipe.folded ] && [ "$(grep -c " [0-9]*$" got.folded)" -eq 2 ] &&
	[ -z "$(ls -A | grep "^\.")" ]
'
test_expect_success 'an input error leaves an existing output untouched' '
	echo keep >keep.svg && printf "a;b x\n" >bad.folded &&
	test_expect_code 6 "$RAMPA" report bad.folded -o keep.svg 2>err &&
	[ "$(cat keep.svg)" = keep ] && [ "$(ls -A | grep -c "^\.keep")" -eq 0 ]
'
test_done
