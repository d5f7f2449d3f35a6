#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Regenerate the CPython layout tables of src/cpython_layouts.c from an
# interpreter's headers, or check the committed ones against them.
#
#   tools/cpython-layouts/gen.sh 3.11            print the tables of 3.11
#   tools/cpython-layouts/gen.sh --check 3.11    compare with the fixture
#   tools/cpython-layouts/gen.sh -I DIR 3.14     headers under DIR instead
#
# layouts.c (next to this script) is compiled with Py_BUILD_CORE against
# DIR/python3.X and DIR/python3.X/internal, and prints offsetof() of every
# member of struct cpython_layout as that version names it, in the text of
# the tables. Without -I, DIR is pyenv's: $PYENV_ROOT (default ~/.pyenv)
# /versions/3.X.*/include, the newest patch release installed. Debian's
# headers work too: -I /usr/include for python3.X-dev (pyconfig.h comes
# from /usr/include/x86_64-linux-gnu), or an unpacked libpython3.X-dev
# (docs/cpython-internals.md, Appendix A: -I /tmp/deb/root/usr/include).
# Extra compiler flags go in CPPFLAGS (Debian builds 3.14/3.15 with
# -D_Py_TIER2=3 -D_Py_JIT; the tables do not change with them).
#
# The committed tables came from pyenv 3.9.18, 3.10.13, 3.11.7, 3.12.1,
# 3.13.0 and Debian sid 3.14.10, 3.15.2. test-tool prints them from the
# compiled tables (tests/test-tool layouts 3.X), and t1014 compares that
# with tests/fixtures/layouts/3.X.txt; --check compares this script's
# output with the same fixture, so headers, fixture and the tables agree:
#
#   for v in 3.9 3.10 3.11 3.12 3.13; do tools/cpython-layouts/gen.sh --check $v; done
#
# A new version: print its tables, paste them into src/cpython_layouts.c
# (and layouts[], debug_offsets[]), save the output as its fixture, and
# extend cpython_layout_fields[] if it names a member differently.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
inc=
check=false
while [ $# -gt 0 ]; do
	case $1 in
	-I) inc=$2; shift 2 ;;
	--check) check=true; shift ;;
	-*) echo "usage: $0 [--check] [-I DIR] 3.X" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--check] [-I DIR] 3.X" >&2; exit 2; }
ver=$1
case $ver in
3.[0-9] | 3.[0-9][0-9]) ;;
*) echo "$0: $ver: expected 3.X" >&2; exit 2 ;;
esac

if [ -z "$inc" ]; then
	root=${PYENV_ROOT:-$HOME/.pyenv}
	# shellcheck disable=SC2012 # version directories: plain names
	inc=$(ls -d "$root/versions/$ver".*/include 2>/dev/null | sort -V | tail -n 1)
	[ -n "$inc" ] || { echo "$0: no pyenv $ver.* under $root/versions (try -I DIR)" >&2; exit 1; }
fi
[ -f "$inc/python$ver/Python.h" ] || { echo "$0: no $inc/python$ver/Python.h" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2086 # CPPFLAGS: several flags
${CC:-cc} -w ${CPPFLAGS:-} -I"$inc/python$ver" -I"$inc/python$ver/internal" -I"$inc" \
	-o "$tmp/layouts" "$here/layouts.c"
"$tmp/layouts" >"$tmp/out"

if $check; then
	fixture=$top/tests/fixtures/layouts/$ver.txt
	if diff -u "$fixture" "$tmp/out"; then
		echo "$ver: the headers in $inc agree with $fixture"
	else
		echo "$ver: the headers in $inc differ from $fixture" >&2
		exit 1
	fi
else
	cat "$tmp/out"
fi
