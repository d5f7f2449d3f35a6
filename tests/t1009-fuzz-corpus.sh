#!/usr/bin/env bash
# Regression run of the libFuzzer harness over its committed corpus
# (tests/fuzz/corpus): every input once, under ASan and UBSan. 'make fuzz'
# fuzzes for real and grows the corpus.
. "$(dirname "$0")/lib.sh"

command -v clang-19 >/dev/null || skip_all "needs clang-19"
CLANG_RT=$(clang-19 -print-file-name=libclang_rt.fuzzer-x86_64.a)
[ -f "$CLANG_RT" ] || skip_all "needs libclang-rt-19-dev for -fsanitize=fuzzer"
FUZZ="$ROOT_DIR/.output/folded_fuzz"
CORPUS="$TESTS_DIR/fuzz/corpus"

test_expect_success 'the harness builds (make fuzz-build)' '
	make -s -C "$ROOT_DIR" fuzz-build >build.log 2>&1 || { cat build.log; exit 1; }
	[ -x "$FUZZ" ]
'
test_expect_success 'the corpus holds the malformed-line seeds and found inputs' '
	for f in no-count negative nonnumeric empty-stack empty-frame bad-utf8 too-big; do
		[ -s "$CORPUS/$f" ] || { echo "missing seed $f"; exit 1; }
	done && [ "$(ls "$CORPUS" | wc -l)" -ge 100 ]
'
test_expect_success 'every corpus input runs clean under ASan and UBSan' '
	test_when_finished "tail -3 log" &&
	"$FUZZ" -runs=0 "$CORPUS" >log 2>&1 &&
	grep -q "Done [0-9]* runs" log && ! grep -q "ERROR: AddressSanitizer\|runtime error" log
'
test_expect_success 'the harness does catch a planted bug (it can fail)' '
	printf "a;b 1\n" >seed && mkdir -p planted &&
	{ cat "$TESTS_DIR/fuzz/folded_fuzz.c"; printf "%s\n" \
		"__attribute__((constructor)) static void plant(void) { static char b[4]; volatile int i = 4; b[i] = 1; }"; } \
		>planted/fuzz.c &&
	clang-19 -g -O0 -fsanitize=fuzzer,address -std=gnu11 -I"$ROOT_DIR/include" -D_GNU_SOURCE \
		planted/fuzz.c $(printf "$ROOT_DIR/src/%s " folded.c profile.c util.c calltree.c \
		flamegraph.c speedscope.c pprof.c pstats.c gecko.c u64map.c labels.c stats.c output.c utf8.c \
		json_writer.c) \
		-lz -lm -o planted/fuzz &&
	! planted/fuzz -runs=0 seed >log 2>&1 && grep -q "AddressSanitizer" log
'
test_done
