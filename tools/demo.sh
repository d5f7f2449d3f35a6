#!/usr/bin/env bash
# make demo: profile the bundled demo service, write a flame graph, say how to open it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${RAMPA_DEMO_DIR:-demo-output}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: rampa-bpf loads BPF programs: run as root (sudo make demo)" >&2
	exit 3
fi
# The distribution's interpreter: a version manager's shim would be a shell script.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) ||
	{ echo "demo: python3 is missing (apt-get install python3)" >&2; exit 1; }
mkdir -p "$out"
echo "demo: profiling tools/demo/app.py ($("$py" --version)) for 5 seconds at 99 Hz..."
./rampa-bpf record -F 99 -o "$out/demo.folded" -- "$py" tools/demo/app.py 5
meta=(--mode cpu --unit samples --hz 99 --duration 5s --target "python3 tools/demo/app.py")
./rampa-bpf report "$out/demo.folded" -o "$out/demo.svg" "${meta[@]}" -q
echo
echo "demo: the heaviest functions:"
./rampa-bpf report "$out/demo.folded" --top 8 "${meta[@]}" -q
echo
echo "demo: flame graph written to $(pwd)/$out/demo.svg"
echo "demo: open it in a browser, e.g.: xdg-open $out/demo.svg  (or file://$(pwd)/$out/demo.svg)"
echo "demo: click a frame to zoom, Ctrl-F or the Search button to highlight functions."
