#!/usr/bin/env bash
# Install what rampa-bpf needs to build and test, from Debian's packages only.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

pkgs=(clang-19 llvm-19 bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config make gcc
      perl python3 python3-docutils)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# Extra packages a caller needs (e.g. the test suite's).
for p in ${RAMPA_EXTRA_PKGS:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (sudo make ...) or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
