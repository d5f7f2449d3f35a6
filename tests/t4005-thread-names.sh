#!/usr/bin/env bash
# Thread names on every CPython of the matrix: threading.Thread.name read
# from the target's memory, the latest name after a rename in Python or with
# prctl, names kept after threads and processes exit; in record -T (folded,
# speedscope, pprof) and in gil-wait's table. Hard names (non-BMP, controls,
# lone surrogates, 300 characters, threads without a threading.Thread) and a
# corrupt threading._active (and one rewritten with garbage) are read through
# test-tool, without BPF.
. "$(dirname "$0")/lib.sh"
require_bpf

load_python_matrix

# Chrooted interpreters see the host's /tmp: the workloads go there.
WL=$(mktemp -d /tmp/rampa-t4005.XXXXXX)
cp "$TESTS_DIR"/workloads/thread_names*.py "$WL/"
trap 'rm -rf "$WL"; _cleanup' EXIT

cmd_of() { printf '%s\n' "${interpreters[@]}" | awk -v l="$1" '$1 == l { sub(/^[^ ]+ /, ""); print }'; }

# cmp_names TRUTH GOT: every thread of TRUTH ("TID<TAB>NAME") has that name
# in GOT (test-tool's "TID python|os NAME"); at least 40 threads.
cmp_names() {
	awk -F'\t' 'NR == FNR { want[$1] = $2; next }
		{ tid = $0; sub(/ .*/, "", tid); name = $0; sub(/^[0-9]+ [a-z]+ /, "", name); got[tid] = name }
		END { for (t in want) { n++; if (got[t] != want[t]) { bad++
			print "thread " t ": want \"" want[t] "\", got \"" got[t] "\"" } }
			print n " threads, " bad + 0 " wrong"; exit bad > 0 || n < 40 }' "$1" "$2"
}

# Hard names, every interpreter at once (the workloads mostly sleep):
# test-tool reads the names every 50 ms until the process exits.
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	for mode in normal corrupt; do
		# shellcheck disable=SC2086
		$cmd "$WL/thread_names_edge.py" $mode "$WL/$label.$mode.truth" \
			>"$TRASH/$label.$mode.out" 2>&1 &
		pid=$!
		bg_track $pid
		"$TEST_TOOL" thread-names $pid 15 >"$TRASH/$label.$mode.got" 2>&1 &
	done
done
# Garbage for threading._active, rewritten every 5 ms: no crash, no hang;
# names read before the damage stay, the others are the OS names.
fuzzed=()
for label in 3.9.18-pyenv 3.11-host 3.12.1-pyenv 3.15-sid; do
	cmd=$(cmd_of $label)
	[ -n "$cmd" ] || continue
	fuzzed+=("$label")
	# shellcheck disable=SC2086
	$cmd "$WL/thread_names_fuzz.py" 1.5 4005 >"$TRASH/$label.fuzz.out" 2>&1 &
	pid=$!
	bg_track $pid
	(timeout 20 "$TEST_TOOL" thread-names $pid 15 >"$TRASH/$label.fuzz.got" 2>&1
		echo "exit $?" >>"$TRASH/$label.fuzz.got") &
done
wait
for label in "${fuzzed[@]}"; do
	test_expect_success "$label: a corrupt target (fuzzed dicts): no crash, no hang, no garbage" '
		cat '"$label"'.fuzz.got && grep -qx "exit 0" '"$label"'.fuzz.got &&
		[ "$(grep -Ec "^[0-9]+ (python|os) (MainThread|fuzz-[0-3]|python[0-9.]*)$" \
			'"$label"'.fuzz.got)" -eq 5 ]
	'
done
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	test_expect_success "$label: hard names read right, also those of exited threads" '
		cmp_names "$WL/'"$label"'.normal.truth" '"$label"'.normal.got
	'
	test_expect_success "$label: a corrupt threading._active: the rest named, no harm" '
		cmp_names "$WL/'"$label"'.corrupt.truth" '"$label"'.corrupt.got
	'
done

# names_ok FILE: the stacks of the Python process (root "python...") carry
# the workload's latest names, one TID each, with at least 15% of the
# samples each; no stale name; no thread over another worker's function.
names_ok() {
	awk '/^# / { next } $1 ~ /^python[0-9.]*;/ { n = $NF; t += n; split($1, f, ";")
			th = f[2]; tid = th; sub(/.*-/, "", tid); name = th; sub(/-[0-9]+$/, "", name)
			seen[name] = seen[name] " " tid; w[name] += n
			fn = ""
			if ($0 ~ /;ingest \(/) fn = "ingest-late"
			if ($0 ~ /;render \(/) fn = "render-os"
			if ($0 ~ /;steady \(/) fn = "naïve-関数"
			if (fn != "" && fn != name) bad = bad " " th " runs the code of " fn
			if (name !~ /^(MainThread|ingest-late|render-os|naïve-関数)$/) bad = bad " " th }
		END { for (k in w) { split(seen[k], ids, " "); for (i in ids) if (ids[i] != ids[1]) bad = bad " two TIDs for " k
				printf "%s %.1f%%\n", k, 100 * w[k] / t }
			if (!("ingest-late" in w) || !("render-os" in w) || !("naïve-関数" in w)) bad = bad " missing"
			else if (w["ingest-late"] < .15 * t || w["render-os"] < .15 * t || w["naïve-関数"] < .15 * t)
				bad = bad " share"
			if (bad != "") { print "wrong:" bad; exit 1 } }' "$1"
}

F="$WL/thread_names.py"
for entry in "${interpreters[@]}"; do
	label=${entry%% *}
	cmd=${entry#* }
	# shellcheck disable=SC2086
	"$RAMPA" record -T -q -o "$TRASH/$label.folded" -- $cmd "$F" 0.5 1.3 2>"$TRASH/$label.err"
	test_expect_success "$label: record -T shows the latest names (Python and prctl renames) and TIDs" '
		names_ok '"$label"'.folded
	'
done

cmd=$(cmd_of 3.13-trixie)
[ -n "$cmd" ] || cmd=$(cmd_of 3.13.0-pyenv)
# shellcheck disable=SC2086
"$RAMPA" record -T -q -o "$TRASH/names.speedscope.json" -- $cmd "$F" 0.5 1.3 2>"$TRASH/ss.err"
test_expect_success 'speedscope: one profile per thread, named with the latest name and TID' '
	python3 - names.speedscope.json <<-\EOF
	import json, re, sys
	names = [p["name"] for p in json.load(open(sys.argv[1]))["profiles"]]
	print(names)
	for want in ("ingest-late", "render-os", "naïve-関数", "MainThread"):
	    hits = [n for n in names if re.match(r"python3\.\d+ / %s-\d+ \(" % re.escape(want), n)]
	    assert len(hits) == 1, (want, hits)
	assert not [n for n in names if re.search(r" / (ingest|render)-\d+ \(", n)]
	EOF
'

command -v go >/dev/null && test_set_prereq GO
if test_have_prereq GO; then
	cmd=$(cmd_of 3.9-bullseye)
	[ -n "$cmd" ] || cmd=$(cmd_of 3.9.18-pyenv)
	# shellcheck disable=SC2086
	"$RAMPA" record -T -q -o "$TRASH/names.pb.gz" -- $cmd "$F" 0.5 1.3 2>"$TRASH/pprof.err"
fi
test_expect_success GO 'pprof: thread labels carry the latest names and TIDs' '
	HOME="$TRASH" GOCACHE="$TRASH/.gocache" GOFLAGS= GOTOOLCHAIN=local \
		go tool pprof -tags names.pb.gz >tags 2>&1 && cat tags &&
	for n in ingest-late render-os naïve-関数; do
		grep -Eq "^ +[0-9.]+ \( *[0-9.]+%\): $n-[0-9]+$" tags || exit 1
	done &&
	! grep -Eq ": (ingest|render)-[0-9]+$" tags
'

# gil_ok FILE: gil-wait's table names the three workers by their latest names.
gil_ok() {
	cat "$1" && for n in ingest-late render-os naïve-関数; do
		grep -Eq "^ +[0-9]+ $n +[0-9.]+ " "$1" || { echo "no row for $n"; return 1; }
	done && ! grep -Eq "^ +[0-9]+ (ingest|render|python3[0-9.]*) " "$1"
}
for label in 3.11-host 3.15-sid; do
	cmd=$(cmd_of $label)
	[ -n "$cmd" ] || continue
	# shellcheck disable=SC2086
	"$RAMPA" gil-wait -q -o "$TRASH/$label.gil.folded" -- $cmd "$F" 0.5 1.3 \
		>"$TRASH/$label.gil.txt" 2>"$TRASH/$label.gil.err"
	test_expect_success "$label: gil-wait's table shows the latest names" '
		gil_ok '"$label"'.gil.txt
	'
done
test_done
