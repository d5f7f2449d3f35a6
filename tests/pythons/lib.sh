# shellcheck shell=bash
# Helpers shared by tests/pythons/{install,list,run}.sh.  Sourced, not run.
#
# Each Debian suite gets one minbase rootfs under the cache directory
# ($cache/bullseye, $cache/trixie, $cache/sid) and the interpreters run
# inside it through chroot, so they use the libc/libexpat/... they were
# built against, and a profiler sees them through /proc/PID/root.
#
# $cache/<suite>.stamp exists only once the rootfs has been bootstrapped;
# install.sh appends "<label> <path-inside-rootfs>" to it after that
# interpreter passed its smoke test, or "<label> -" once it found the
# package missing from the suite (so that later runs need no network).

# Interpreters we know about, one per line: label suite package binary kind
#   required  install.sh fails when the suite lacks the package
#   optional  skipped with a warning when the suite lacks it (sid moves on)
#   dbg       the --with-pydebug build; optional too, skipped with --no-dbg.
#             Its binary is python3.Xd (python3.X-dbg is a symlink to it);
#             the package also ships /usr/lib/debug/.build-id/ files for
#             the release interpreter.
# shellcheck disable=SC2034  # used by the scripts that source this file
RAMPA_PY_TABLE='
3.9-bullseye   bullseye  python3.9       /usr/bin/python3.9    required
3.9d-bullseye  bullseye  python3.9-dbg   /usr/bin/python3.9d   dbg
3.13-trixie    trixie    python3.13      /usr/bin/python3.13   required
3.13-sid       sid       python3.13      /usr/bin/python3.13   optional
3.13d-sid      sid       python3.13-dbg  /usr/bin/python3.13d  dbg
3.14-sid       sid       python3.14      /usr/bin/python3.14   required
3.14d-sid      sid       python3.14-dbg  /usr/bin/python3.14d  dbg
3.15-sid       sid       python3.15      /usr/bin/python3.15   optional
3.15d-sid      sid       python3.15-dbg  /usr/bin/python3.15d  dbg
'

rampa_py_default_cache() {
    printf '%s\n' "${RAMPA_PY_CACHE:-/var/cache/rampa-bpf/pythons}"
}

# rampa_py_entries: the table without blank lines, for `while read`.
rampa_py_entries() {
    printf '%s\n' "$RAMPA_PY_TABLE" | awk 'NF == 5'
}

# rampa_py_stamp_get CACHE SUITE LABEL: print the recorded binary path
# ("-" = known to be unavailable); status 1 when LABEL is not recorded.
rampa_py_stamp_get() {
    local stamp="$1/$2.stamp"
    [[ -f $stamp ]] || return 1
    awk -v l="$3" '$1 == l { p = $2; found = 1 } END { if (found) print p; exit !found }' "$stamp"
}

# rampa_py_exec_chroot [--tmp] [--cwd DIR] ROOT CMD...: replace the current
# process with CMD run inside ROOT.  The mounts the interpreters need are made
# in a private mount namespace (unshare --mount), so nothing is left mounted
# on the host, nothing needs unmounting before `rm -rf $cache`, and repeated
# or concurrent calls cannot stack mounts.  Every step execs, so the caller's
# PID becomes CMD itself within a few milliseconds.
#   /proc      fresh procfs (same PID namespace as the host)
#   /dev/shm   small tmpfs, for multiprocessing/semaphores
#   /tmp       (--tmp) the host's /tmp, to pass scripts and collect output
rampa_py_exec_chroot() {
    local bind_tmp=0 cwd=/
    while (($#)); do
        case $1 in
            --tmp) bind_tmp=1; shift ;;
            --cwd) cwd=$2; shift 2 ;;
            *) break ;;
        esac
    done
    local root=$1
    shift
    # Runs as /bin/sh on the host, inside the new mount namespace.
    # shellcheck disable=SC2016  # expanded by that shell, not by this one
    local outer='
        root=$1 bind_tmp=$2 cwd=$3; shift 3
        mount -t proc proc "$root/proc" || exit 125
        mount -t tmpfs -o mode=1777,size=64m shm "$root/dev/shm" || exit 125
        if [ "$bind_tmp" = 1 ]; then mount --bind /tmp "$root/tmp" || exit 125; fi
        # GNU chroot always chdirs to the new /, so a second shell (the
        # rootfs own dash) sets the working directory before the final exec.
        exec chroot "$root" /bin/sh -c "cd \"\$1\" || exit 125; shift; exec \"\$@\"" sh "$cwd" "$@"
    '
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
        exec unshare --mount --propagation private -- /bin/sh -c "$outer" sh "$root" "$bind_tmp" "$cwd" "$@"
}

rampa_py_die() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

rampa_py_need_root() {
    ((EUID == 0)) || rampa_py_die "must run as root (chroot/unshare/debootstrap need it)"
}
