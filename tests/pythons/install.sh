#!/bin/bash
# Install real Debian-built CPython interpreters of several versions into a
# cache directory, one minbase rootfs per Debian suite, for the test suite.
#
#   tests/pythons/install.sh [--cache DIR] [--mirror URL] [--no-dbg] [SELECTOR...]
#
# SELECTOR is a version (3.14: release and debug build), a debug version
# (3.14d), a label (3.14-sid, see list.sh) or a suite (sid); default: all.
# The cache defaults to $RAMPA_PY_CACHE or /var/cache/rampa-bpf/pythons.
# --no-dbg leaves out the python3.X-dbg builds (about half of the ~1.2 GB).
# --mirror defaults to $RAMPA_PY_MIRROR, else the Debian mirror that the
# host's apt sources use (only that host may be reachable).
#
# Idempotent: interpreters recorded in $cache/<suite>.stamp are not looked at
# again, so a run with everything present needs neither network nor chroot.
# Remove $cache/<suite> and $cache/<suite>.stamp to rebuild a suite.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit "${1:-0}"
}

cache=$(rampa_py_default_cache)
mirror=${RAMPA_PY_MIRROR:-}
with_dbg=1
selectors=()
while (($#)); do
    case $1 in
        --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
        --cache=*) cache=${1#*=}; shift ;;
        --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
        --mirror=*) mirror=${1#*=}; shift ;;
        --no-dbg) with_dbg=0; shift ;;
        -h | --help) usage ;;
        -*) echo "unknown option: $1" >&2; usage 2 ;;
        *) selectors+=("$1"); shift ;;
    esac
done
[[ $cache == /* ]] || cache=$PWD/$cache

# --- what to install ---------------------------------------------------------

# wanted[label]=1 for every selected interpreter; explicit[label]=1 when the
# user named its label (then a missing package is an error, not a warning).
# Other selectors must each end up with at least one interpreter installed.
declare -A wanted=() explicit=() kind_of=() suite_of=() pkg_of=() bin_of=()
labels=()
while read -r label suite pkg bin kind; do
    labels+=("$label")
    kind_of[$label]=$kind suite_of[$label]=$suite pkg_of[$label]=$pkg bin_of[$label]=$bin
done < <(rampa_py_entries)

# selector_matches SELECTOR LABEL
selector_matches() {
    local sel=$1 label=$2 ver=${2%-*}
    [[ $sel == "$label" || $sel == "${suite_of[$label]}" || $sel == "$ver" || $sel == "${ver%d}" ]]
}

if ((${#selectors[@]} == 0)); then
    for label in "${labels[@]}"; do
        [[ ${kind_of[$label]} == dbg && $with_dbg == 0 ]] || wanted[$label]=1
    done
else
    for sel in "${selectors[@]}"; do
        matched=0
        for label in "${labels[@]}"; do
            selector_matches "$sel" "$label" || continue
            matched=1
            if [[ $sel == "$label" ]]; then
                explicit[$label]=1
            elif [[ ${kind_of[$label]} == dbg && $with_dbg == 0 && $sel != "${label%-*}" ]]; then
                continue # --no-dbg drops debug builds unless asked for as 3.Xd
            fi
            wanted[$label]=1
        done
        ((matched)) || rampa_py_die "unknown interpreter '$sel' (try a version like 3.14, a label like 3.14-sid, or a suite)"
    done
fi

# Everything already recorded (installed, or known missing)?  Then we are done
# without touching the network: this is the common case in test runs.
declare -A todo_suites=()
for label in "${labels[@]}"; do
    [[ -n ${wanted[$label]:-} ]] || continue
    suite=${suite_of[$label]}
    if path=$(rampa_py_stamp_get "$cache" "$suite" "$label") &&
        { [[ $path == - ]] || [[ -x $cache/$suite$path ]]; }; then
        if [[ $path == - && -n ${explicit[$label]:-} ]]; then
            rampa_py_die "$label: ${pkg_of[$label]} is not available in $suite (recorded in $cache/$suite.stamp; delete that line to re-check)"
        fi
        continue
    fi
    todo_suites[$suite]+=" $label"
done

# check_selectors: every selector got at least one working interpreter.
check_selectors() {
    local sel label path ok
    for sel in "${selectors[@]}"; do
        ok=0
        for label in "${labels[@]}"; do
            [[ -n ${wanted[$label]:-} ]] || continue
            selector_matches "$sel" "$label" || continue
            path=$(rampa_py_stamp_get "$cache" "${suite_of[$label]}" "$label") || continue
            [[ $path == - ]] || ok=1
        done
        ((ok)) || rampa_py_die "no interpreter matching '$sel' is available (see $cache/*.stamp)"
    done
}

if ((${#todo_suites[@]} == 0)); then
    check_selectors
    echo "all requested interpreters are present in $cache"
    exit 0
fi

rampa_py_need_root

# --- mirror ------------------------------------------------------------------

# The Debian mirror this machine's apt already uses (one-line *.list or
# deb822 *.sources format); only that host is known to be reachable.
detect_mirror() {
    local f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        uri=$(awk '
            /^[ \t]*#/ { next }
            $1 == "deb" || $1 == "URIs:" {
                for (i = 2; i <= NF; i++)
                    if ($i ~ /^(https?|ftp):\/\/.*\/debian\/?$/) { sub(/\/$/, "", $i); print $i; exit }
            }' "$f")
        [[ -z $uri ]] || { echo "$uri"; return; }
    done
}
if [[ -z $mirror ]]; then
    mirror=$(detect_mirror)
    mirror=${mirror:-http://deb.debian.org/debian}
fi

# --- host prerequisites --------------------------------------------------------

if ! command -v debootstrap >/dev/null; then
    echo "installing debootstrap on the host (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null ||
        rampa_py_die "could not install debootstrap with apt-get"
fi
for tool in unshare chroot mount flock; do
    command -v "$tool" >/dev/null || rampa_py_die "$tool is missing on the host"
done
# The bookworm keyring also holds the bullseye and trixie keys, and sid is
# signed with the trixie key as well, so one keyring verifies all suites.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || rampa_py_die "$keyring is missing (apt-get install debian-archive-keyring)"

mkdir -p "$cache/logs"
# Serialise concurrent installs into the same cache (e.g. parallel test jobs).
exec 9>"$cache/.lock"
flock 9

# --- per-suite work ------------------------------------------------------------

# in_root ROOT CMD...: run CMD inside ROOT with a clean environment.
in_root() {
    local root=$1
    shift
    (rampa_py_exec_chroot "$root" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LC_ALL=C DEBIAN_FRONTEND=noninteractive HOME=/root "$@")
}

# remove_rootfs ROOT: delete a half-built rootfs.  Mounts left behind by an
# interrupted debootstrap are unmounted first; --one-file-system is a second
# guard so that rm can never walk into a mount (e.g. a bind of the host /tmp).
remove_rootfs() {
    local root=$1 mnt
    while read -r mnt; do
        umount -l "$mnt" || true
    done < <(awk -v r="$root/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system "$root"
}

# smoke_test ROOT BIN: the interpreter starts, runs threads and imports the
# parts of the stdlib a test script is likely to use.
smoke_test() {
    in_root "$1" "$2" -c '
import sys, threading, os, json, subprocess, time
out = []
t = threading.Thread(target=lambda: out.append(sum(range(1000))))
t.start(); t.join()
assert out == [499500], out
print(sys.version.split()[0])
'
}

# install_suite SUITE LABEL...: runs in the background, progress on stdout,
# tool output in $cache/logs/SUITE.log.
install_suite() {
    local suite=$1
    shift
    local root=$cache/$suite stamp=$cache/$suite.stamp log=$cache/logs/$suite.log
    local label pkg info pkgs=() ready=() path ver

    if [[ ! -f $stamp ]]; then
        if [[ -e $root ]]; then
            echo "$suite: removing incomplete rootfs $root"
            remove_rootfs "$root"
        fi
        echo "$suite: debootstrap --variant=minbase $suite from $mirror into $root"
        # In a private mount namespace so that the /proc and /sys debootstrap
        # mounts inside the target cannot outlive it, even if it is killed.
        unshare --mount --propagation private -- \
            debootstrap --variant=minbase --components=main --keyring="$keyring" \
            "$suite" "$root" "$mirror" >>"$log" 2>&1 ||
            { echo "$suite: debootstrap failed, see $log"; return 1; }
        # The mirror may serve a frozen snapshot whose Release files are past
        # Valid-Until (sid's are valid for a week only); we pin nothing and
        # still verify signatures, so ignore the date.  No translations,
        # recommends, docs, man pages or static libpython (70-90 MB each for
        # the debug builds): they only cost download and disk space.
        cat >"$root/etc/apt/apt.conf.d/90rampa" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dpkg::Use-Pty "false";
EOF
        cat >"$root/etc/dpkg/dpkg.cfg.d/90rampa-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/lib/python3*/config-*/*.a
EOF
        printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
        in_root "$root" apt-get clean >>"$log" 2>&1
        : >"$stamp" # from now on the rootfs is reused
    fi

    echo "$suite: apt-get update"
    in_root "$root" apt-get -q update >>"$log" 2>&1 ||
        { echo "$suite: apt-get update failed, see $log"; return 1; }
    for label in "$@"; do
        pkg=${pkg_of[$label]}
        # apt treats a name it does not know as a regex ("python3.17" would
        # select postgresql-plpython3-17), so accept only a stanza for exactly
        # $pkg and install exactly that version.
        info=$(in_root "$root" apt-cache show --no-all-versions "$pkg" 2>>"$log") || info=
        ver=$(awk -v p="$pkg" '$1 == "Package:" { ok = ($2 == p) }
            ok && $1 == "Version:" && v == "" { v = $2 } END { print v }' <<<"$info")
        if [[ -n $ver ]]; then
            echo "installing ${label%-*} ($pkg $ver) from $suite into $root"
            pkgs+=("$pkg=$ver")
            ready+=("$label")
        elif [[ ${kind_of[$label]} == required || -n ${explicit[$label]:-} ]]; then
            echo "$suite: error: $pkg is not available in $suite (needed for $label)"
            return 1
        else
            echo "$suite: warning: $pkg is not available in $suite, skipping $label"
            echo "$label -" >>"$stamp"
        fi
    done
    if ((${#pkgs[@]})); then
        in_root "$root" apt-get -q install -y "${pkgs[@]}" >>"$log" 2>&1 ||
            { echo "$suite: apt-get install ${pkgs[*]} failed, see $log"; return 1; }
    fi
    # Package lists are ~60 MB for sid; the next install re-downloads them.
    in_root "$root" apt-get clean >>"$log" 2>&1
    rm -rf "$root"/var/lib/apt/lists/*_dists_*

    for label in "${ready[@]}"; do
        path=${bin_of[$label]}
        # Debug builds: python3.Xd, formerly also spelt python3.X-dbg.
        [[ -x $root$path ]] || { [[ -x $root${path%d}-dbg ]] && path=${path%d}-dbg; }
        [[ -x $root$path ]] || { echo "$suite: error: $label: $path missing after installing ${pkg_of[$label]}"; return 1; }
        if ! ver=$(smoke_test "$root" "$path" 2>>"$log"); then
            echo "$suite: error: smoke test of $label ($path) failed, see $log"
            return 1
        fi
        echo "$label $path" >>"$stamp"
        echo "$suite: $label ok: $path $ver"
    done
}

start=$SECONDS
declare -A job_pid=()
for suite in "${!todo_suites[@]}"; do
    # shellcheck disable=SC2086  # the label list is space separated on purpose
    install_suite "$suite" ${todo_suites[$suite]} &
    job_pid[$suite]=$!
done
failed=()
for suite in "${!job_pid[@]}"; do
    wait "${job_pid[$suite]}" || failed+=("$suite")
done
if ((${#failed[@]})); then
    for suite in "${failed[@]}"; do
        echo "--- last lines of $cache/logs/$suite.log:" >&2
        tail -n 15 "$cache/logs/$suite.log" >&2 || true
    done
    rampa_py_die "could not install interpreters from: ${failed[*]}"
fi
check_selectors
echo "done in $((SECONDS - start))s; $(du -sh "$cache" | cut -f1) in $cache"
