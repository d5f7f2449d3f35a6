#!/usr/bin/env bash
# Symbolization cost of native frames with and without DWARF lines
# (RAMPA_SRCLINE): every exported function of the C library, named as a
# live process maps it (a sleep), each address twice (the second from the
# cache), by tests/test-tool symbolize. CPU time (user + sys) is the figure
# to read on a loaded machine; wall time includes waiting for a core.
#   tools/bench/srcline.sh        (after make; libc6-dbg gives libc its DWARF)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 300 &
spid=$!
sleep 0.5
libc=$(awk '/libc.so.6/ && $3 == "00000000" { print $1; exit }' /proc/$spid/maps | cut -d- -f1)
lpath=$(awk '/libc.so.6/ { print $6; exit }' /proc/$spid/maps)
nm -D --defined-only "$lpath" | awk '$2 ~ /[Tt]/ { print $1 }' | sort -u >"$tmp/fn"
addrs=$(while read -r off; do
	a=$(printf '0x%x' $((0x$libc + 0x$off + 4)))
	printf '%s %s ' "$a" "$a"
done <"$tmp/fn")
echo "$(wc -l <"$tmp/fn") addresses in $lpath, each twice"
for m in 0 1 0 1; do
	# shellcheck disable=SC2086
	/usr/bin/time -f "RAMPA_SRCLINE=$m: %e s wall, %U s user, %S s sys, %M KB max RSS" \
		env RAMPA_SRCLINE=$m "$root/tests/test-tool" symbolize $spid $addrs >"$tmp/out$m"
done
echo "named with file:line: $(grep -c " (" "$tmp/out1" || true) of $(wc -l <"$tmp/out1")"
