#!/usr/bin/env bash
# Kernel symbols and /proc/PID/maps parsing, on fixture files.
. "$(dirname "$0")/lib.sh"

[ -x "$TEST_TOOL" ] || skip_all "test-tool not built"

cat >"$TRASH/kallsyms" <<'K'
ffffffff81000000 T _stext
ffffffff81001000 T do_one
ffffffff81001800 t helper_two
ffffffff81002000 D some_data
ffffffff81003000 T after_data
ffffffffc0000000 t mod_func	[some_module]
K
test_expect_success 'kallsyms: address inside a function, data symbols skipped' '
	"$TEST_TOOL" ksym kallsyms 0xffffffff81001004 0xffffffff81001900 0xffffffff81002004 \
		0xffffffffc0000010 0x1000 >out &&
	printf "%s\n" hidden=0 "0xffffffff81001004 do_one" "0xffffffff81001900 helper_two" \
		"0xffffffff81002004 helper_two" "0xffffffffc0000010 mod_func" "0x1000 (none)" >expect &&
	diff -u expect out
'
test_expect_success 'kallsyms: all-zero addresses (kptr_restrict) are reported hidden' '
	printf "%s\n" "0000000000000000 T a" "0000000000000000 T b" >hidden &&
	"$TEST_TOOL" ksym hidden 0x10 | grep -q hidden=1
'
if [ "$(id -u)" -eq 0 ]; then
	test_expect_success 'kallsyms: the running kernel resolves schedule' '
		a=$(awk "\$3 == \"schedule\" { print \$1; exit }" /proc/kallsyms) &&
		"$TEST_TOOL" ksym /proc/kallsyms 0x$a | grep -q " schedule$"
	'
fi

cat >"$TRASH/maps" <<'M'
55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 101 /usr/bin/app
55d0c0a01000-55d0c0a05000 r-xp 00001000 fe:00 101 /usr/bin/app
7f0000000000-7f0000100000 r-xp 00002000 fe:00 202 /tmp/old lib.so (deleted)
7f0000200000-7f0000201000 rw-p 00000000 00:00 0
7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0                          [vdso]
M
test_expect_success 'maps: executable mappings, paths with spaces, deleted marker' '
	"$TEST_TOOL" maps maps 0x55d0c0a01010 0x7f0000000010 0x7f0000200010 0x7ffc00000010 >out &&
	grep -q "^3 executable mappings" out &&
	grep -q "0x55d0c0a01010 55d0c0a01000-55d0c0a05000 off=1000 inode=101 deleted=0 path=/usr/bin/app" out &&
	grep -q "0x7f0000000010 .*deleted=1 path=/tmp/old lib.so$" out &&
	grep -q "0x7f0000200010 none" out && grep -q "path=\[vdso\]" out
'
test_done
