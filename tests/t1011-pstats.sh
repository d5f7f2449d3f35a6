#!/usr/bin/env bash
# pstats output (report -o x.pstats / --format pstats), read back with
# Python's own pstats module: keys, self and total seconds from the samples,
# callers from the stacks, lines of a function merged.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v python3 >/dev/null || skip_all "needs python3 to read pstats"
FIX="$TESTS_DIR/fixtures/formats"

# dump FILE: one line per function, "file:line:name tt ct nc cc", then one
# per caller edge, "  <- callerfile:line:name tt ct", sorted.
cat >"$TRASH/dump.py" <<'PY'
import pstats, sys
s = pstats.Stats(sys.argv[1])
key = lambda f: "%s:%d:%s" % f
for f, (cc, nc, tt, ct, callers) in sorted(s.stats.items()):
    print("%s %.4f %.4f %d %d" % (key(f), tt, ct, nc, cc))
    for c, (cnc, ccc, ctt, cct) in sorted(callers.items()):
        print("  <- %s %.4f %.4f" % (key(c), ctt, cct))
print("total_tt %.4f" % s.total_tt)
PY
dump() { python3 "$TRASH/dump.py" "$1"; }

test_expect_success 'report -o x.pstats: every function, seconds from samples at 99 Hz' '
	"$RAMPA" report -q "$FIX/app.folded" -o app.pstats && dump app.pstats >out && cat out &&
	grep -qx "/srv/app/app.py:20:compute 5.0505 6.5657 0 0" out &&
	grep -qx "/usr/lib/python3.11/json/encoder.py:200:encode 3.0303 3.0303 0 0" out &&
	grep -qx "/srv/app/app.py:5:main 0.0000 9.5960 0 0" out &&
	grep -qx "~:0:cblas_dgemm 1.5152 1.5152 0 0" out &&
	grep -qx "~:0:tcp_recvmsg_\[k\] 0.5051 0.5051 0 0" out &&
	grep -qx "total_tt 10.1010" out
'
test_expect_success 'callers from the stacks; the lines of compute are one function' '
	[ "$(grep -c "^/srv/app/app.py:[0-9]*:compute " out)" -eq 1 ] &&
	sed -n "/^\/usr\/lib\/python3\/dist-packages\/numpy\/core\/multiarray.py:5:dot /,/^[^ ]/p" out |
		grep -qx "  <- /srv/app/app.py:20:compute 0.0000 1.5152" &&
	sed -n "/^~:0:cblas_dgemm /,/^[^ ]/p" out |
		grep -qx "  <- /usr/lib/python3/dist-packages/numpy/core/multiarray.py:5:dot 1.5152 1.5152"
'
test_expect_success 'python -m pstats and --format pstats read the same file' '
	"$RAMPA" report -q "$FIX/app.folded" --format pstats -o - >stdout.pstats &&
	cmp app.pstats stdout.pstats &&
	printf "sort cumulative\nstats 5\n" | python3 -m pstats app.pstats >ps.out &&
	grep -q "10.101 seconds" ps.out && grep -q "app.py:5(main)" ps.out
'
test_expect_success 'a recursive function counts once per stack in cumtime' '
	printf "%s\n" "p;f (/a.py:1);f (/a.py:2);f (/a.py:3) 99" "p;g (/a.py:9) 99" >rec.folded &&
	"$RAMPA" report -q --hz 99 rec.folded -o rec.pstats && dump rec.pstats >rec &&
	grep -qx "/a.py:1:f 1.0000 1.0000 0 0" rec &&
	sed -n "/^\/a.py:1:f /,/^[^ ]/p" rec | grep -qx "  <- /a.py:1:f 1.0000 1.0000"
'
test_expect_success 'time units: microseconds are seconds / 1e6; no rate: warned' '
	printf "%s\n" "p;a 250000" "p;b 750000" >us.folded &&
	"$RAMPA" report -q --mode wall us.folded -o us.pstats && dump us.pstats >us &&
	grep -qx "~:0:b 0.7500 0.7500 0 0" us &&
	printf "%s\n" "p;a 3" >nohz.folded &&
	"$RAMPA" report -q nohz.folded -o nohz.pstats 2>err && grep -q "give --hz" err
'
test_expect_success 'a profile in bytes (mem) is refused: pstats holds times' '
	printf "%s\n" "# rampa-bpf: target \"t\", mode mem, unit bytes, duration 1.000 s, rate unknown" \
		"main;grow (a.py:3) 4096" >mem.folded &&
	test_expect_code 2 "$RAMPA" report mem.folded -o mem.pstats 2>err && cat err &&
	grep -q "pstats holds times, and this profile counts bytes" err && [ ! -e mem.pstats ] &&
	[ "$(wc -l <err)" -eq 1 ] &&
	test_expect_code 2 "$RAMPA" report mem.folded --from 1 -o m.folded 2>err && cat err &&
	grep -q "is a memory profile (rampa-bpf mem), which keeps no time axis" err
'
test_done
