#!/usr/bin/env bash
# Docs that cannot drift: each subcommand's --help options are exactly its
# man page's OPTIONS; the main page lists each command once and every page
# in SEE ALSO; every exit code is documented in rampa-bpf(1), and the README
# points there instead of keeping its own list.
. "$(dirname "$0")/lib.sh"

[ -x "$RAMPA" ] || skip_all "rampa-bpf not built"
DOCS="$ROOT_DIR/docs"
cmds=$("$RAMPA" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')

# help_opts CMD: the options its --help names (-x and --long), sorted.
help_opts() {
	"$RAMPA" "$1" --help | grep -oE "(^|[ ,[])--?[a-zA-Z][a-zA-Z-]*" |
		sed -E "s/^[ ,[]//" | grep -vx -- "-" | sort -u
}
# page_opts PAGE: the options its OPTIONS section defines (bold -x, --long).
page_opts() {
	awk '/^OPTIONS$/ { on = 1; next } on && /^[A-Z ]+$/ { exit } on' "$1" |
		grep -oE "\*\*--?[a-zA-Z][a-zA-Z-]*\*\*" | tr -d "*" | sort -u
}

test_expect_success 'the help lists the commands' '
	[ "$(echo $cmds)" = "record gil-wait top mem dump report diff agent" ]
'
for c in $cmds; do
	test_expect_success "'$c --help' and rampa-bpf-$c(1) OPTIONS name the same options" '
		help_opts '$c' >help && page_opts "$DOCS/rampa-bpf-'$c'.1.rst" >page &&
		[ -s help ] && diff -u help page
	'
done
test_expect_success 'the checks can fail: an option missing from a page is caught' '
	sed "/^\*\*--top\*\*/d; s/^\*\*-t\*\*, \*\*--top\*\* \*N\*$/XX/" "$DOCS/rampa-bpf-diff.1.rst" >cut.rst &&
	help_opts diff >help && page_opts cut.rst >page && ! diff -q help page >/dev/null
'
test_expect_success 'rampa-bpf(1): each command once under COMMANDS, every page in SEE ALSO' '
	for c in $cmds; do
		n=$(awk "/^COMMANDS$/ { on = 1; next } on && /^[A-Z ]+$/ { exit } on" "$DOCS/rampa-bpf.1.rst" |
			grep -cx "\*\*$c\*\*") && [ "$n" -eq 1 ] || { echo "$c listed $n times"; exit 1; }
		sed -n "/^SEE ALSO/,\$p" "$DOCS/rampa-bpf.1.rst" | grep -q "rampa-bpf-$c\*\*" ||
			{ echo "SEE ALSO misses $c"; exit 1; }
	done
'
test_expect_success 'every exit code of include/util.h is in rampa-bpf(1) EXIT STATUS' '
	codes=$(sed -n "/^enum rampa_exit/,/^};/p" "$ROOT_DIR/include/util.h" |
		grep -oE "= [0-9]+" | tr -dc "0-9\n") && [ -n "$codes" ] &&
	awk "/^EXIT STATUS$/ { on = 1; next } on && /^[A-Z ]+$/ { exit } on" "$DOCS/rampa-bpf.1.rst" >exits &&
	for n in $codes; do grep -qx "$n" exits || { echo "exit $n undocumented"; exit 1; }; done
'
test_expect_success 'each --help names only documented exit codes, and says where they are' '
	for c in $cmds; do
		"$RAMPA" $c --help | tr "\n" " " | grep -oE "exit status: [^.]*" |
			grep -oE "[0-9]+ [a-z-]" | grep -oE "^[0-9]+" >codes || true
		for n in $(cat codes); do grep -qx "$n" exits || { echo "$c: exit $n"; exit 1; }; done
	done
'
test_expect_success 'the README keeps no exit code list of its own, it points to rampa-bpf(1)' '
	! grep -qiE "exit codes: 0 ok|[0-9] output not writable" "$ROOT_DIR/README.md" &&
	grep -q "(docs/rampa-bpf.1.rst#exit-status)" "$ROOT_DIR/README.md"
'
test_done
