#!/usr/bin/env bash
# Every subcommand has a man page, each renders without warnings, and
# make install puts the binary and the pages under PREFIX.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
command -v rst2man >/dev/null || skip_all "rst2man missing (apt-get install python3-docutils)"

cmds=$("$RAMPA" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
test_expect_success 'the help lists at least the record command' '
	echo "$cmds" | grep -qx record
'
for c in $cmds; do
	test_expect_success "man page for '$c' exists and renders strictly" '
		f="$ROOT_DIR/docs/rampa-bpf-'$c'.1.rst" && [ -f "$f" ] &&
		rst2man --strict "$f" >page 2>warn && [ ! -s warn ] && grep -q "^.SH SYNOPSIS" page &&
		grep -q "^.SH EXAMPLES" page
	'
done
test_expect_success 'the main man page renders strictly' '
	rst2man --strict "$ROOT_DIR/docs/rampa-bpf.1.rst" >page 2>warn && [ ! -s warn ]
'
test_expect_success 'make install puts the binary and man pages under PREFIX' '
	make -s -C "$ROOT_DIR" install DESTDIR="$TRASH/dest" PREFIX=/usr >/dev/null &&
	[ -x dest/usr/bin/rampa-bpf ] && [ -f dest/usr/share/man/man1/rampa-bpf-record.1 ] &&
	[ -f dest/usr/share/man/man1/rampa-bpf.1 ]
'
test_done
