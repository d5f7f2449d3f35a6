#!/bin/bash
# Run an interpreter installed by install.sh inside its rootfs:
#
#   tests/pythons/run.sh [--cache DIR] LABEL [PYTHON-ARGS...]
#   tests/pythons/run.sh 3.14-sid /tmp/t/loop.py &  pid=$!
#
# LABEL is a label printed by list.sh (3.14-sid, 3.14d-sid, 3.9-bullseye...).
# Every step execs, so $! is the python process itself once it has started
# (a few ms; until then it is unshare/sh/chroot with the same PID).
#
# The host's /tmp is bind-mounted on the rootfs' /tmp, so pass scripts and
# collect output under /tmp (same path inside and outside).  If the current
# directory is under /tmp, python starts there; otherwise in /.  The mounts
# (/proc, /tmp, /dev/shm) live in a private mount namespace of this process:
# nothing stays mounted on the host and nothing needs cleaning up.
# The environment is passed through, except PATH.
#
# A profiler sees the chroot through /proc/PID/root; /proc/PID/maps of the
# process shows host paths ($cache/<suite>/usr/bin/python3.X).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

cache=$(rampa_py_default_cache)
case ${1:-} in
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --cache=*) cache=${1#*=}; shift ;;
    "" | -h | --help) sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
[[ $cache == /* ]] || cache=$PWD/$cache
label=${1:?usage: ${0##*/} [--cache DIR] LABEL [ARGS...]}
shift

suite=$(rampa_py_entries | awk -v l="$label" '$1 == l { print $2 }')
[[ -n $suite ]] || rampa_py_die "unknown label '$label' (see tests/pythons/list.sh)"
if ! path=$(rampa_py_stamp_get "$cache" "$suite" "$label") || [[ $path == - || ! -x $cache/$suite$path ]]; then
    rampa_py_die "$label is not installed in $cache (run tests/pythons/install.sh $label)"
fi
rampa_py_need_root

cwd=/
[[ $PWD == /tmp || $PWD == /tmp/* ]] && cwd=$PWD
rampa_py_exec_chroot --tmp --cwd "$cwd" "$cache/$suite" "$path" "$@"
