#!/usr/bin/env bash
# record names C++ and Rust frames as their source does: a small C++ program
# (and a Rust one where rustc is installed) built with frame pointers.
. "$(dirname "$0")/lib.sh"
require_bpf
command -v g++ >/dev/null || skip_all "needs g++ (apt-get install g++)"
cd "$TRASH" || exit 1

# -O0: every call keeps its frame, so the template caller shows too.
g++ -O0 -g -fno-omit-frame-pointer -o matrix "$TESTS_DIR/workloads/matrix.cc"
"$RAMPA" record -q -F 499 -o cxx.folded -- ./matrix 1

test_expect_success 'C++: the hot method is app::Matrix::sum(int) const, under its template caller' '
	head -3 cxx.folded &&
	! grep -q "_Z" cxx.folded &&
	within "$(share cxx.folded ";main;double app::run<app::Matrix>\\(app::Matrix const&, double\\);")" 100 5 &&
	sum=$(share cxx.folded ";double app::run<app::Matrix>\\(app::Matrix const&, double\\);app::Matrix::sum\\(int\\) const(;|$)") &&
	echo "sum=$sum" && awk -v s=$sum "BEGIN { exit !(s > 80) }"
'
test_expect_success 'report --top and pstats show the demangled name' '
	"$RAMPA" report --top 1 cxx.folded | grep -q "  app::Matrix::sum(int) const$" &&
	"$RAMPA" report -q cxx.folded -o cxx.pstats &&
	python3 -c "import pstats; s = pstats.Stats(\"cxx.pstats\").stats; assert (\"~\", 0, \"app::Matrix::sum(int) const\") in s"
'
command -v rustc >/dev/null && test_set_prereq RUSTC
if test_have_prereq RUSTC; then
	rustc -O -C force-frame-pointers=yes -o spin-legacy "$TESTS_DIR/workloads/spin.rs" &&
		rustc -O -C force-frame-pointers=yes -C symbol-mangling-version=v0 -o spin-v0 \
			"$TESTS_DIR/workloads/spin.rs"
	"$RAMPA" record -q -F 499 -o rs-legacy.folded -- ./spin-legacy 1
	"$RAMPA" record -q -F 499 -o rs-v0.folded -- ./spin-v0 1
fi
test_expect_success RUSTC 'Rust, legacy and v0 mangling: spin::work::Spinner::spin' '
	within "$(share rs-legacy.folded ";spin::work::Spinner::spin$")" 100 5 &&
	within "$(share rs-v0.folded ";<spin::work::Spinner>::spin$")" 100 5 &&
	! grep -q ";_[ZR]" rs-legacy.folded rs-v0.folded
'
test_done
