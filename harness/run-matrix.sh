#!/usr/bin/env bash
# run-matrix.sh: fio against its peers on the workloads of its performance targets and on
# the microbenchmarks, every allocator by the same command in one run, each repetition in
# its own process: `allocbench suite matrix` (the recipe in harness/run/suite_recipes.cpp)
# plus a note of the machine.
#
#   run-matrix.sh [OUT]         (default: $OUT, else ./matrix-out)
#
# Runs from a bundle made by harness/bundle.sh (bin/allocbench, lib/), or from a source
# tree's build (ALLOCBENCH_BUILD_DIR, default build/release). Writes under OUT: main/
# (group-free, alloc-free, random-lifetime, producer-consumer, larson), zeroed/ (group-free
# with calloc for the peers), micro-1-thread/ (single calls and one thread's group, pinned
# to the last CPU) and micro-per-cpu/ (the group with one thread per CPU), each with
# results.csv and results.json, and OUT/machine.txt. The table of fio against the others
# is then one command per directory (on a machine with python3):
#   plots/allocbench-plots OUT/main --ratios fio --no-report
#
# Environment: MATRIX_THREADS (default 1,2,4,8,16,32), MATRIX_REPS (5), MATRIX_OPS
# (6000000 operations per run, split over its threads), MATRIX_MICRO_REPS (3).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${1:-${OUT:-$PWD/matrix-out}}
THREADS=${MATRIX_THREADS:-1,2,4,8,16,32}
REPS=${MATRIX_REPS:-5}
OPS=${MATRIX_OPS:-6000000}
MICRO_REPS=${MATRIX_MICRO_REPS:-3}

if [ -x "$HERE/bin/allocbench" ]; then
  EXE=$HERE/bin/allocbench
  export LD_LIBRARY_PATH=$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  ROOT=$(cd "$HERE/.." && pwd)
  EXE=${ALLOCBENCH_BUILD_DIR:-$ROOT/build/release}/harness/allocbench
  [ -x "$EXE" ] || { echo "run-matrix.sh: $EXE is not built (./run_all.sh builds it)" >&2; exit 2; }
fi

mkdir -p "$OUT_DIR"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -n), kernel $(uname -r)"
  echo "cpus online: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  [ -f "$HERE/REVISION" ] && echo "revision: $(cat "$HERE/REVISION")"
  echo "threads: $THREADS, repetitions: $REPS, operations per run: $OPS"
} >"$OUT_DIR/machine.txt"

exec "$EXE" suite matrix --set threads="$THREADS" --set ops="$OPS" --set repetitions="$REPS" \
  --set micro_repetitions="$MICRO_REPS" --out="$OUT_DIR"
