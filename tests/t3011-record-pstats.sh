#!/usr/bin/env bash
# record -o x.pstats on a workload with a known split (every cycle alpha()
# spins 30 ms and beta() 10 ms, both through spin()), read back with
# Python's pstats module: the proportions and the callers hold.
. "$(dirname "$0")/lib.sh"
require_bpf
command -v python3 >/dev/null || skip_all "needs python3 to read pstats"

WL=$(mktemp -d /tmp/rampa-t3011.XXXXXX)
cp "$TESTS_DIR/workloads/split.py" "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT
cd "$TRASH" || exit 1

"$RAMPA" record -q -F 499 -o split.pstats -- /usr/bin/python3.11 "$WL/split.py" 3 2>err

cat >read.py <<'PY'
import pstats, sys
s = pstats.Stats(sys.argv[1]).stats
by = {}
for (file, line, name), (cc, nc, tt, ct, callers) in s.items():
    if file.endswith("split.py"):
        by[name] = (tt, ct, {c[2]: v for c, v in callers.items()})
a, b, sp = by["alpha"], by["beta"], by["spin"]
print("alpha ct=%.3f beta ct=%.3f spin tt=%.3f ct=%.3f" % (a[1], b[1], sp[0], sp[1]))
print("spin callers", {k: round(v[3], 3) for k, v in sp[2].items()})
share = 100 * a[1] / (a[1] + b[1])
print("alpha share %.1f" % share)
assert abs(share - 75) < 4, share
# spin is where the time goes (self), called by alpha and beta in 3:1.
assert sp[0] > 0.9 * sp[1] and abs(sp[1] - (a[1] + b[1])) < 0.05 * sp[1]
c = sp[2]
assert abs(100 * c["alpha"][3] / (c["alpha"][3] + c["beta"][3]) - 75) < 4
# cumtime in seconds: the 3 s run, nearly all of it in cycle().
assert 2.5 < by["cycle"][1] < 3.5, by["cycle"]
PY

test_expect_success 'record -o x.pstats: alpha 75% and beta 25% of cumtime, in seconds' '
	[ ! -s err ] && python3 read.py split.pstats
'
test_done
