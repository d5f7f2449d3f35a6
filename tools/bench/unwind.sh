#!/usr/bin/env bash
# The CFI unwinder against the kernel's frame-pointer walk (RAMPA_UNWIND=fp):
# the sampler's cost per sample (BPF run time / run count, the summary's
# "BPF cost" line), attach time, and the time and memory to build unwind
# tables, cold (RAMPA_UNWIND_CACHE empty: compiled from .eh_frame) and warm
# (read from the disk cache). Workloads: a C program without frame pointers
# (tests/workloads/unwind-chain.c) and /usr/bin/python3.11 calling it through
# ctypes (libpython is in the binary, with libc and libffi).
#   tools/bench/unwind.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
RAMPA=$PWD/rampa-bpf
W=$(mktemp -d /tmp/rampa-bench-unwind.XXXXXX)
trap 'rm -rf "$W"' EXIT
gcc -O2 -fomit-frame-pointer -DCHAIN_MAIN -o "$W/chain" tests/workloads/unwind-chain.c
gcc -O2 -fomit-frame-pointer -shared -fPIC -nostdlib -o "$W/libchain.so" \
	tests/workloads/unwind-chain.c
cp tests/workloads/unwind_drive.py "$W/"

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one WORKLOAD MODE CACHE: "us_per_sample attach_ms build_ms rows mib"
one() {
	local err=$W/err
	if [ "$1" = c ]; then
		RAMPA_UNWIND=$2 RAMPA_UNWIND_CACHE=$3 "$RAMPA" record -F 999 -o "$W/o.folded" -- \
			"$W/chain" 2 2>"$err"
	else
		RAMPA_UNWIND=$2 RAMPA_UNWIND_CACHE=$3 "$RAMPA" record -F 999 -o "$W/o.folded" -- \
			/usr/bin/python3.11 "$W/unwind_drive.py" "$W/libchain.so" 2 2>"$err"
	fi
	awk '
		/sampler [0-9.]+ us a sample/ { for (i = 1; i <= NF; i++) if ($i == "sampler") us = $(i + 1) }
		/^  attach / { ms = $2 }
		/^  unwinding .*built in/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "rows") rows = $(i - 1)
				if ($i == "MiB),") mib = substr($(i - 1), 2)
				if ($i == "built") build = $(i + 2)
			}
		}
		END { printf "%s %s %s %s %s\n", us, ms, build + 0, rows + 0, mib + 0 }' "$err"
}

echo "| workload | walk | tables | sampler us/sample | attach ms | table build ms | rows | MiB |"
echo "|---|---|---|---|---|---|---|---|"
for wl in c py; do
	for mode in fp cold warm; do
		: >"$W/res"
		# The warm runs find the tables the first run compiled.
		[ $mode = warm ] && one $wl cfi "$W/cache" >/dev/null
		for _ in $(seq "$runs"); do
			case $mode in
			fp) one $wl fp "" >>"$W/res" ;;
			cold) one $wl cfi "" >>"$W/res" ;;
			warm) one $wl cfi "$W/cache" >>"$W/res" ;;
			esac
		done
		name=$([ $wl = c ] && echo "C chain" || echo "python3.11 + ctypes")
		walk=$([ $mode = fp ] && echo "frame pointers" || echo CFI)
		tab=$([ $mode = fp ] && echo - || echo $mode)
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$walk" "$tab" \
			"$(cut -d' ' -f1 "$W/res" | median)" "$(cut -d' ' -f2 "$W/res" | median)" \
			"$(cut -d' ' -f3 "$W/res" | median)" "$(cut -d' ' -f4 "$W/res" | median)" \
			"$(cut -d' ' -f5 "$W/res" | median)"
	done
done
