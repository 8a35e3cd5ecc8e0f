#!/usr/bin/env bash
# `./run_all.sh --quick` end to end, minus install and build: runs plots/run_suite.sh
# --quick with the given allocbench into a scratch results root, then checks what a user
# gets: a new dated directory (an existing one untouched), CSV, JSON, charts, a report
# and the winners table.
#
#   test_suite_quick.sh ALLOCBENCH SCRATCH_DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 ALLOCBENCH SCRATCH_DIR" >&2; exit 2; }
allocbench=$1
scratch=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$scratch"
mkdir -p "$scratch/results"
# Today's directory already exists with earlier results: the suite must not touch it.
stamp="$(date -u +%Y-%m-%d)-$(hostname -s 2>/dev/null || hostname)"
mkdir "$scratch/results/$stamp"
echo "earlier results" > "$scratch/results/$stamp/results.json"

"$here/../run_suite.sh" --quick --allocbench "$allocbench" --results-root "$scratch/results" \
  > "$scratch/stdout.txt" 2>&1 || { cat "$scratch/stdout.txt"; fail "run_suite.sh --quick exited $?"; }
cat "$scratch/stdout.txt"

[ "$(cat "$scratch/results/$stamp/results.json")" = "earlier results" ] || fail "earlier results were overwritten"
out="$scratch/results/$stamp-2"
[ -d "$out" ] || fail "no new result directory $out"
for f in results.csv results.json report.html charts/relative-throughput.png charts/memory.png charts/memory.svg; do
  [ -s "$out/$f" ] || fail "$out/$f missing or empty"
done
grep -q "report: $out/report.html" "$scratch/stdout.txt" || fail "the report's path was not printed"
grep -q "^workload " "$scratch/stdout.txt" || fail "the winners table was not printed"
# Every workload the runner knows appears in the results.
workloads=$("$allocbench" --list --format=json |
  python3 -c 'import json, sys; print(" ".join(w["name"] for w in json.load(sys.stdin)["workloads"]))')
[ -n "$workloads" ] || fail "allocbench --list printed no workloads"
for w in $workloads; do
  grep -q "\"workload\": *\"$w\"" "$out/results.json" || fail "workload $w is missing from the results"
done
echo "OK: quick suite wrote $out"
