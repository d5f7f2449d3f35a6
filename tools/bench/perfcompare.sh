#!/usr/bin/env bash
# rampa-bpf against perf record --call-graph dwarf on the same native code
# without frame pointers (issue 16): the share of samples whose leaf is each
# function (self) and the share of each caller -> callee edge, for the
# functions of the workload. Prints one table per workload and the largest
# difference in points.
#   tools/bench/perfcompare.sh [SECONDS]      (root; Debian's linux-perf)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nofp="-O2 -fomit-frame-pointer -fno-inline -fno-optimize-sibling-calls"
# shellcheck disable=SC2086
gcc $nofp -o "$tmp/spin" "$root/tests/workloads/spin.c" -pthread
# shellcheck disable=SC2086
gcc -O2 -fomit-frame-pointer -shared -fPIC -nostdlib -o "$tmp/libchain.so" \
	"$root/tests/workloads/unwind-chain.c"
cp "$root/tests/workloads/unwind_drive.py" "$tmp/"

# perf script output (leaf first, blank line between samples) -> folded
# stacks, root first, user frames only, names without perf's "(inlined)".
perf_fold() {
	perf script -i "$1" -F comm,ip,sym 2>/dev/null | awk '
		function flush() { if (n) { s = comm; for (i = n; i >= 1; i--) s = s ";" f[i]; c[s]++ } n = 0 }
		/^[^ \t]/ { flush(); comm = $1; next }
		/^[ \t]*$/ { flush(); next }
		{ ip = $1; if (ip ~ /^ffff/) next; $1 = ""; sub(/^ /, ""); sub(/ \(inlined\)$/, "");
		  sub(/\+0x[0-9a-f]+$/, ""); if ($0 == "[unknown]") $0 = "[no-symbol]"; f[++n] = $0 }
		END { flush(); for (s in c) print s, c[s] }'
}
# rampa's folded stacks with kernel frames and source lines dropped.
rampa_fold() {
	grep -v '^# ' "$1" | awk '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); s = f[1]
		for (i = 2; i <= k; i++) { if (f[i] ~ /_\[k\]$/) continue; sub(/ \([^;]*:[0-9]+\)$/, "", f[i])
			if (f[i] ~ /\+0x[0-9a-f]+$/ || f[i] == "[unknown]") f[i] = "[no-symbol]"; s = s ";" f[i] }
		c[s] += n } END { for (s in c) print s, c[s] }'
}
# shares FOLDED FUNCS...: "self F pct" and "edge G>F pct" (of all samples)
# and "caller G>F pct" (of the samples with F) for F in FUNCS.
shares() {
	local file=$1
	shift
	awk -v funcs="$*" 'BEGIN { split(funcs, w, " "); for (i in w) want[w[i]] = 1 }
		{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); t += n
		  if (f[k] in want) self[f[k]] += n
		  delete seen
		  for (i = 3; i <= k; i++) if (f[i] in want) { e = f[i - 1] ">" f[i]; if (!(e in seen)) { seen[e] = 1; edge[e] += n; callee[e] = f[i] } if (!(f[i] in seen)) { seen[f[i]] = 1; in_f[f[i]] += n } }
		}
		END { for (x in self) printf "self %s %.1f\n", x, 100 * self[x] / t
		      for (x in edge) printf "edge %s %.1f\n", x, 100 * edge[x] / t
		      # Of the samples in a function, the share through each caller:
		      # independent of where the window falls in the run.
		      for (x in edge) printf "caller %s %.1f\n", x, 100 * edge[x] / in_f[callee[x]] }' "$file" | sort
}
compare() { # NAME FUNCS... ; $tmp/NAME.perf and $tmp/NAME.rampa hold the folded stacks
	local name=$1
	shift
	shares "$tmp/$name.perf" "$@" >"$tmp/$name.ps"
	shares "$tmp/$name.rampa" "$@" >"$tmp/$name.rs"
	echo "== $name: % of samples (perf --call-graph dwarf | rampa-bpf | difference)"
	join -j 2 -a 1 -a 2 -e 0 -o 0,1.1,1.3,2.3 <(awk '{ print $1, $1 ":" $2, $3 }' "$tmp/$name.ps" | sort -k2) \
		<(awk '{ print $1, $1 ":" $2, $3 }' "$tmp/$name.rs" | sort -k2) |
		awk '{ d = $3 - $4; if (d < 0) d = -d; if (d > max) max = d; printf "  %-40s %6.1f %6.1f %5.1f\n", $1, $3, $4, d }
			END { printf "  largest difference: %.1f points\n", max }'
}

# both BINARY ARGS...: perf and rampa-bpf attached together to one run of
# the workload for $secs seconds (one run: its share of CPU between
# functions varies between runs on a loaded machine).
both() {
	local name=$1 pid
	shift
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep 1
	perf record -q -e cpu-clock -F 499 --call-graph dwarf -o "$name.data" -p $pid \
		-- sleep "$secs" >/dev/null 2>&1 &
	"$root/rampa-bpf" record -q -F 499 -d "$secs" -p $pid -o "$name.folded" 2>/dev/null
	wait %2 2>/dev/null || true
	kill $pid 2>/dev/null || true
	perf_fold "$name.data" >"$name.perf"
	rampa_fold "$name.folded" >"$name.rampa"
}

cd "$tmp"
both spin ./spin $((secs + 30))
compare spin run_cycles hot warm spin_until now
both py /usr/bin/python3.11 unwind_drive.py "$tmp/libchain.so" $((secs + 30))
compare py run level1 level2 level3
