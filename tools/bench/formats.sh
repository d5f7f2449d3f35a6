#!/usr/bin/env bash
# Benchmark report and diff against FlameGraph's flamegraph.pl and
# difffolded.pl on the same generated collapsed-stack input (default
# 1,000,000 lines). FlameGraph is not part of rampa-bpf: point FLAMEGRAPH_DIR
# at a checkout of https://github.com/brendangregg/FlameGraph to get its
# column, otherwise it is skipped.
#
#   tools/bench/formats.sh [LINES]      env: FLAMEGRAPH_DIR, WORK (scratch dir),
#                                            UNSORTED=1 (keep generation order),
#                                            ONLY=diff (the two diff rows only),
#                                            DEPTH=N (every stack N frames deep),
#                                            RAMPA=binary (default: this tree's)
#
# The input is sorted, as stackcollapse-*.pl and rampa-bpf write it; with
# UNSORTED=1 lines come in random order (py-spy's raw output does).
# DEPTH=40 makes the deep input of issue 13: 1,000,000 distinct stacks of 40
# frames, about 1.7 GB per file, kept in WORK as base-d40.folded and
# new-d40.folded (give the same WORK to reuse them).
# Prints a Markdown table: wall seconds and peak RSS per task, peak RSS as a
# share of one input file, and the speedup.
set -euo pipefail

lines=${1:-1000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
rampa=${RAMPA:-$root/rampa-bpf}
depth=${DEPTH:-}
fg=${FLAMEGRAPH_DIR:-}
work=${WORK:-$(mktemp -d /tmp/rampa-bench-formats.XXXXXX)}
mkdir -p "$work"
[ -x "$rampa" ] || { echo "build first: make" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
if [ -n "$fg" ] && [ ! -f "$fg/flamegraph.pl" ]; then
	echo "FLAMEGRAPH_DIR=$fg has no flamegraph.pl" >&2
	exit 1
fi

# gen SEED-FOR-WEIGHTS: a Python service's stacks. Paths are a random walk
# down a call tree (3 callees per frame, depth 6-20, or DEPTH) over a pool of
# 2,000 functions of every kind, so prefixes are shared the way real ones are
# and nearly every line is a distinct stack. The same stacks come out for any
# seed; only the weights differ (NEW makes a tenth of the functions hotter).
# With DEPTH the walk's node number is kept below 2^24, so that awk's doubles
# hold it exactly at any depth.
gen() {
	awk -v n="$lines" -v hot="$1" -v fixed="${depth:-0}" 'BEGIN {
		srand(7)
		for (i = 0; i < 2000; i++) {
			k = i % 20
			if (k < 9)
				f[i] = sprintf("handle_%d (/srv/app/svc/mod%d.py:%d)", i, i % 60, 10 + i % 700)
			else if (k < 13)
				f[i] = sprintf("encode_%d (/usr/lib/python3.11/json/encoder.py:%d)", i, i % 400)
			else if (k < 16)
				f[i] = sprintf("query_%d (/srv/venv/lib/python3.11/site-packages/sqlalchemy/orm/q%d.py:%d)", i, i % 30, i % 900)
			else if (k < 19)
				f[i] = sprintf("_PyEval_EvalFrameDefault_%d", i)
			else
				f[i] = sprintf("tcp_sendmsg_%d_[k]", i)
		}
		for (l = 0; l < n; l++) {
			depth = fixed ? fixed - 2 : 6 + int(rand() * 15)
			node = 1
			s = "python3;MainThread-4242"
			hotline = 0
			for (d = 0; d < depth; d++) {
				node = node * 3 + int(rand() * 3)
				if (fixed) {
					node %= 16777213
					id = (node * 40503) % 2000
				} else {
					id = (node * 2654435761) % 2000
				}
				s = s ";" f[id]
				if (id % 10 == 0)
					hotline = 1
			}
			w = 1 + int(rand() * 20)
			if (hot && hotline)
				w = int(w * 1.6) + 1
			print s, w
		}
	}'
}

order() { if [ -n "${UNSORTED:-}" ]; then cat; else LC_ALL=C sort -S 1G; fi; }
sfx=${depth:+-d$depth}
b="$work/base$sfx.folded"
n="$work/new$sfx.folded"
[ -s "$b" ] || gen 0 | order >"$b"
[ -s "$n" ] || gen 1 | order >"$n"
in_mb=$(du -Lm "$b" | cut -f1)
echo "input: $(wc -l <"$b") lines, $in_mb MB ($b, $n)" >&2

# run NAME CMD...: wall seconds and peak RSS (MB) of CMD into $work/NAME.time,
# with both inputs in the page cache first (some VMs evict it eagerly).
run() {
	local name=$1
	shift
	cat "$b" "$n" >/dev/null
	/usr/bin/time -f "%e %M" -o "$work/$name.time" bash -c "$*" ||
		{ echo "$name failed: $*" >&2; exit 1; }
}
secs() { cut -d" " -f1 "$work/$1.time"; }
mb() { awk '{ printf "%.0f", $2 / 1024 }' "$work/$1.time"; }
# Peak RSS as a share of one input file.
share() { awk -v i="$in_mb" '{ printf "%.2f", $2 / 1024 / i }' "$work/$1.time"; }
only=${ONLY:-}
case "$only" in
"" | diff) ;;
*)
	echo "ONLY=$only: give ONLY=diff or nothing" >&2
	exit 1
	;;
esac
[ -n "$only" ] || run r_svg "'$rampa' report -q '$b' -o '$work/r.svg'"
run r_diffsvg "'$rampa' diff -q '$b' '$n' -o '$work/rd.svg' >/dev/null"
run r_difffolded "'$rampa' diff -q '$b' '$n' -o '$work/rd.folded' >/dev/null"
if [ -z "$only" ]; then
	run r_pprof "'$rampa' report -q '$b' -o '$work/r.pb.gz'"
	run r_speedscope "'$rampa' report -q '$b' -o '$work/r.speedscope.json'"
	run r_top "'$rampa' report --top 20 '$b' >/dev/null"
fi
if [ -n "$fg" ]; then
	[ -n "$only" ] || run f_svg "perl '$fg/flamegraph.pl' '$b' >'$work/f.svg'"
	run f_diffsvg "perl '$fg/difffolded.pl' '$b' '$n' | perl '$fg/flamegraph.pl' >'$work/fd.svg'"
	run f_difffolded "perl '$fg/difffolded.pl' '$b' '$n' >'$work/fd.folded'"
fi

row() { # TASK OURS PEER
	local ours=$2 peer=${3:-}
	if [ -n "$peer" ] && [ -n "$fg" ]; then
		printf "| %s | %s s, %s MB (%sx) | %s s, %s MB | %sx |\n" "$1" "$(secs "$ours")" \
			"$(mb "$ours")" "$(share "$ours")" "$(secs "$peer")" "$(mb "$peer")" \
			"$(awk -v a="$(secs "$ours")" -v b="$(secs "$peer")" 'BEGIN { printf "%.1f", b / (a > 0 ? a : 0.01) }')"
	else
		printf "| %s | %s s, %s MB (%sx) | - | - |\n" "$1" "$(secs "$ours")" "$(mb "$ours")" \
			"$(share "$ours")"
	fi
}
echo "| task ($lines lines${depth:+ of $depth frames}, $in_mb MB) | rampa-bpf (RSS/input) | FlameGraph | speedup |"
echo "|---|---|---|---|"
[ -n "$only" ] || row "flame graph SVG (\`report -o x.svg\` / \`flamegraph.pl\`)" r_svg f_svg
row "differential SVG (\`diff -o x.svg\` / \`difffolded.pl \| flamegraph.pl\`)" r_diffsvg f_diffsvg
row "diff folded (\`diff -o x.folded\` / \`difffolded.pl\`)" r_difffolded f_difffolded
[ -n "$only" ] && exit 0
row "pprof (\`report -o x.pb.gz\`)" r_pprof
row "speedscope (\`report -o x.speedscope.json\`)" r_speedscope
row "top table (\`report --top 20\`)" r_top
