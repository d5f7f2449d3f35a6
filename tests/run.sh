#!/usr/bin/env bash
# Build the test fixtures, then run every tests/tNNNN-*.sh under prove.
set -euo pipefail
cd "$(dirname "$0")"
BUILD=.build
mkdir -p "$BUILD"

cc=${CC:-gcc}
fp="-O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls"
build() { # out src flags...
	local out=$1 src=$2
	shift 2
	if [ ! -e "$BUILD/$out" ] || [ "$src" -nt "$BUILD/$out" ]; then
		# shellcheck disable=SC2086
		$cc $fp "$src" -o "$BUILD/$out" "$@"
	fi
}
build spin workloads/spin.c -pthread
build oddproc workloads/oddproc.c -pthread
build callers workloads/callers.c
build dump-native workloads/dump_native.c -pthread
build dump-native-static workloads/dump_native.c -pthread -static
build fake-freethreaded workloads/fake_freethreaded.c
build libsymfix.so workloads/symfix-lib.c -shared -fPIC
build symfix-pie workloads/symfix.c -fPIE -pie -L"$BUILD" -lsymfix -Wl,-rpath,'$ORIGIN'
build symfix-nopie workloads/symfix.c -fno-pie -no-pie -L"$BUILD" -lsymfix -Wl,-rpath,'$ORIGIN'
build symfix-static workloads/symfix.c workloads/symfix-lib.c -static
cp "$BUILD/symfix-pie" "$BUILD/symfix-stripped" && strip "$BUILD/symfix-stripped"

jobs=()
[ $# -gt 0 ] && jobs=("$@") || jobs=(t[0-9]*.sh)
# A script that hangs fails after RAMPA_TEST_TIMEOUT seconds (default 900;
# the longest takes about 90 idle) with everything it started, instead of
# holding the whole suite (timeout signals its process group).
exec prove --timer -f --exec "timeout -k 10 ${RAMPA_TEST_TIMEOUT:-900} bash" "${jobs[@]}"
