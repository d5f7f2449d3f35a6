#!/usr/bin/env bash
# make bench: every benchmark, one after the other, as markdown on stdout
# (the numbers in docs/PERFORMANCE.md come from these scripts). Takes about
# 70 minutes; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (sudo make bench)" >&2; exit 1; }
echo "## record: on-CPU sampling"; ./overhead.sh 7 20000; echo
echo "## record: Python workloads"; ./python.sh 5 40000000; echo
echo "## record --mode wall / offcpu"; ./switch.sh 9 30000 10000; echo; ./switch.sh 9 200000 0; echo
PINGPONG=python ./switch.sh 9 30000; echo
PINGPONG=python ./switch.sh 9 20000 300; echo
echo "## scheduler hook: cost per switch"; ./schedcost.sh 5 20000; echo
echo "## gil-wait"; ./gil.sh 7 15000000; echo
echo "## top against record"; ./top.sh 3 30 99 cpu; echo
echo "## record: start-up-heavy Python"; ./startup.sh 7 20; echo
echo "## record: native stacks by CFI against frame pointers"; ./unwind.sh 5; echo
echo "## record -a: memory under process churn"; ./churn.sh 180 15; echo
echo "## agent: 20 Python processes, 19 Hz"; ./agent.sh 600 30; echo
echo "## agent: 30-minute soak under process churn"; ./agent-soak.sh 1800 10; echo
if [ -n "${FLAMEGRAPH_DIR:-}" ]; then
	echo "## Formats: report and diff"; ./formats.sh
else
	echo "(formats.sh skipped: set FLAMEGRAPH_DIR to a FlameGraph checkout to compare)"
fi
