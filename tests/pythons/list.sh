#!/bin/bash
# List the interpreters install.sh put into the cache, one per line:
#
#   <label> <rootfs> <path-inside-rootfs> <version> stripped=yes|no shared=yes|no dbgsym=yes|no pyruntime=dynsym|symtab|no
#
#   tests/pythons/list.sh [--cache DIR]
#
# version   sys.version of the interpreter, run inside its chroot
# stripped  the binary has no .symtab
# shared    the binary links libpython3.X*.so (else libpython is static in it)
# dbgsym    the rootfs has /usr/lib/debug/.build-id/xx/yyyy.debug for the
#           binary's build-id (the python3.X-dbg package ships it)
# pyruntime where the _PyRuntime symbol is: .dynsym, only .symtab, or neither
#           (for shared=yes look at the libpython instead)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

cache=$(rampa_py_default_cache)
while (($#)); do
    case $1 in
        --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
        --cache=*) cache=${1#*=}; shift ;;
        -h | --help) sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "usage: ${0##*/} [--cache DIR]" >&2; exit 2 ;;
    esac
done
[[ $cache == /* ]] || cache=$PWD/$cache
command -v readelf >/dev/null || rampa_py_die "readelf is missing (apt-get install binutils)"
rampa_py_need_root

# The symbol and section tables of the rootfs' own files, read from the host.
elf_facts() {
    local root=$1 bin=$1$2 stripped=yes shared=no dbgsym=no pyruntime=no id
    readelf -SW "$bin" | grep ' \.symtab ' >/dev/null && stripped=no
    readelf -dW "$bin" | grep 'NEEDED.*\[libpython' >/dev/null && shared=yes
    id=$(readelf -nW "$bin" | awk '/Build ID:/ && !id { id = $NF } END { print id }')
    [[ -n $id && -f $root/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug ]] && dbgsym=yes
    if readelf -W --dyn-syms "$bin" | grep -w '_PyRuntime' >/dev/null; then
        pyruntime=dynsym
    elif [[ $stripped == no ]] && readelf -Ws "$bin" | grep -w '_PyRuntime' >/dev/null; then
        pyruntime=symtab
    fi
    echo "stripped=$stripped shared=$shared dbgsym=$dbgsym pyruntime=$pyruntime"
}

while read -r label suite _ _ _; do
    root=$cache/$suite
    path=$(rampa_py_stamp_get "$cache" "$suite" "$label") || continue
    [[ $path != - && -x $root$path ]] || continue
    version=$( (rampa_py_exec_chroot "$root" "$path" -c 'import sys; print(sys.version.split()[0])')) ||
        rampa_py_die "$label: $root$path does not run"
    echo "$label $root $path $version $(elf_facts "$root" "$path")"
done < <(rampa_py_entries)
