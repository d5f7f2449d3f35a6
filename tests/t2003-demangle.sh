#!/usr/bin/env bash
# Native names as people read them: C++ and Rust (legacy and v0) symbols
# demangled by libiberty, C names untouched.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"

test_expect_success 'C++: namespaces, classes, const methods, templates, clones' '
	"$TEST_TOOL" demangle _ZNK3app6Matrix3sumEi _ZN3app3runINS_6MatrixEEEdRKT_d \
		_ZN3foo3barEv.cold _ZNSt6vectorIdSaIdEEixEm >out &&
	printf "%s\n" "app::Matrix::sum(int) const" \
		"double app::run<app::Matrix>(app::Matrix const&, double)" \
		"foo::bar() [clone .cold]" "std::vector<double, std::allocator<double> >::operator[](unsigned long)" >expect &&
	diff -u expect out
'
test_expect_success 'Rust: legacy symbols lose their hash, v0 symbols read as paths' '
	"$TEST_TOOL" demangle _ZN4core3fmt5write17h0123456789abcdefE \
		_ZN4spin4work7Spinner4spin17h745f0d6600704de8E _RNvCs15kBYyAo9fc_7mycrate7example >out &&
	printf "%s\n" "core::fmt::write" "spin::work::Spinner::spin" "mycrate::example" >expect &&
	diff -u expect out
'
test_expect_success 'C names, kernel-style names and broken manglings stay as they are' '
	"$TEST_TOOL" demangle printf _start PyEval_EvalFrameDefault _Zjunk _R >out &&
	printf "%s\n" printf _start PyEval_EvalFrameDefault _Zjunk _R >expect && diff -u expect out
'
test_done
