#!/usr/bin/env bash
# Install what rampa-bpf needs to build and test, from Debian's packages only.
# Idempotent: does nothing (and needs no network) when everything is present.
# --test: also what the test suite's consumers need (chromium for the flame
# graph, go tool pprof, xmllint, libFuzzer's runtime, node + the npm packages
# pinned in tests/browser/package-lock.json).
set -euo pipefail

with_test=false
[ "${1:-}" = --test ] && with_test=true

pkgs=(clang-19 llvm-19 bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev libiberty-dev libcurl4-openssl-dev libncurses-dev pkg-config
      make gcc
      perl python3 python3-docutils
      libdebuginfod1)  # libdw loads it for DEBUGINFOD_URLS (native frames' debug files)
if $with_test; then
	pkgs+=(chromium golang-go libclang-rt-19-dev python3-pytest debootstrap libxml2-utils tmux)
	# t2005 serves a debug file over debuginfod; linux-perf for perf comparisons.
	pkgs+=(debuginfod linux-perf)
	# Any nodejs that brings npm will do (Debian's needs its npm package).
	command -v npm >/dev/null || pkgs+=(nodejs npm)
fi
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

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root (sudo make ...) or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser and speedscope tests' npm packages, exactly as locked; again
# only when the lock changed since the last install.
if $with_test; then
	browser="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
	stamp="$browser/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$browser/package-lock.json" -nt "$stamp" ]; then
		echo "install-deps: npm ci in tests/browser" >&2
		(cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
exit 0
