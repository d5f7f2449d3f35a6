#!/usr/bin/env bash
# What top costs against record on the same target: the profiler's own CPU
# seconds (user+sys, from wait4's rusage of the profiler alone) per second
# of a -p run, for record, record -T (per-thread frames, which top always
# uses), top --batch (stdout to /dev/null) and top on a screen (a pty that
# is read and thrown away). Rounds alternate the four, so drifts in machine
# load hit each alike; medians are reported.
#
#   tools/bench/top.sh [ROUNDS] [SECONDS] [HZ] [MODE]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
secs=${2:-10}
hz=${3:-99}
mode=${4:-cpu}
[ "$(id -u)" -eq 0 ] || { echo "top.sh: run as root" >&2; exit 1; }
make -s all
out=$(mktemp -d)
# Two busy Python threads (alpha/beta through spin), for the whole bench.
/usr/bin/python3.11 tests/workloads/split.py $((rounds * secs * 5 + 30)) --threads 2 \
	>/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
sleep 1

# cpu PTY CMD...: the profiler's user+sys seconds; PTY=1 runs it on a pty.
cpu() {
	python3 - "$@" <<'PY'
import os, pty, sys
use_pty, argv = sys.argv[1] == "1", sys.argv[2:]
if use_pty:
    child, fd = pty.fork()
    if child == 0:
        os.environ["TERM"] = "xterm"
        os.execv(argv[0], argv)
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
else:
    child = os.fork()
    if child == 0:
        devnull = os.open("/dev/null", os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execv(argv[0], argv)
_, status, ru = os.wait4(child, 0)
print("%.3f" % (ru.ru_utime + ru.ru_stime))
PY
}

r=./rampa-bpf
echo "top: $rounds rounds of $secs s at $hz Hz, --mode $mode, -p (2 busy Python threads)," \
	"$(nproc) CPUs ($(uname -r))" >&2
for _ in $(seq "$rounds"); do
	cpu 0 $r record -m "$mode" -F "$hz" -p "$pid" -d "$secs" -o "$out/r.folded" >>"$out/record"
	cpu 0 $r record -T -m "$mode" -F "$hz" -p "$pid" -d "$secs" -o "$out/t.folded" \
		>>"$out/recordT"
	cpu 0 $r top --batch -m "$mode" -F "$hz" -p "$pid" -d "$secs" >>"$out/batch"
	cpu 1 $r top -m "$mode" -F "$hz" -p "$pid" -d "$secs" >>"$out/screen"
	printf '.' >&2
done
echo >&2

median() { sort -g "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
printf '| run (-F %s, --mode %s, -p PID -d %s) | profiler CPU (s), median | %% of one core | runs (s) |\n' \
	"$hz" "$mode" "$secs"
printf '|---|---|---|---|\n'
for k in record recordT batch screen; do
	case $k in
	record) name="record" ;;
	recordT) name="record -T" ;;
	batch) name="top --batch" ;;
	screen) name="top (screen on a pty)" ;;
	esac
	m=$(median "$out/$k")
	awk -v n="$name" -v m="$m" -v s="$secs" -v all="$(tr '\n' ' ' <"$out/$k")" \
		'BEGIN { printf "| %s | %.3f | %.2f%% | %s|\n", n, m, 100 * m / s, all }'
done
