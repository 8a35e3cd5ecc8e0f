#!/usr/bin/env bash
# run-matrix.sh: fio against its peers on the workloads of its performance targets, every
# allocator by the same command in one run, each repetition in its own process.
#
#   run-matrix.sh [OUT]         (default: $OUT, else ./matrix-out)
#
# Runs from a bundle made by harness/bundle.sh (bin/allocbench, lib/), or from a source
# tree's build (ALLOCBENCH_BUILD_DIR, default build/release). Writes OUT/main (group-free,
# alloc-free, random-lifetime, producer-consumer, larson), OUT/zeroed (group-free with
# calloc for the peers), each results.csv and results.json, and OUT/machine.txt. The
# table of fio against the others is then one command (on a machine with python3):
#   plots/allocbench-plots OUT/main --ratios fio --no-report
# Then, where python3 is there, the allocator's microbenchmarks (compare.sh): the
# single-thread ones pinned to one CPU (taskset) into OUT/micro-1-thread.txt, the group
# with one thread per CPU into OUT/micro-per-cpu.txt.
#
# Environment: MATRIX_THREADS (default 1,2,4,8,16,32), MATRIX_REPS (5), MATRIX_OPS
# (6000000 operations per run, split over its threads), MATRIX_MICRO_ROUNDS (3; 0 skips
# the microbenchmarks).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=${1:-${OUT:-$PWD/matrix-out}}
THREADS=${MATRIX_THREADS:-1,2,4,8,16,32}
REPS=${MATRIX_REPS:-5}
OPS=${MATRIX_OPS:-6000000}

MICRO_ROUNDS=${MATRIX_MICRO_ROUNDS:-3}
case "$MICRO_ROUNDS" in '' | *[!0-9]*) echo "run-matrix.sh: MATRIX_MICRO_ROUNDS must be a number, not '$MICRO_ROUNDS'" >&2; exit 2 ;; esac

if [ -x "$HERE/bin/allocbench" ]; then
  EXE=$HERE/bin/allocbench
  COMPARE=$HERE/compare.sh
  COMPARE_DIR=$HERE
  export LD_LIBRARY_PATH=$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  ROOT=$(cd "$HERE/.." && pwd)
  COMPARE_DIR=${ALLOCBENCH_BUILD_DIR:-$ROOT/build/release}
  EXE=$COMPARE_DIR/harness/allocbench
  COMPARE=$ROOT/allocator/bench/compare.sh
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

# The recipe: `allocbench suite matrix` (harness/run/suite_recipes.cpp).
"$EXE" suite matrix --set threads="$THREADS" --set ops="$OPS" --set repetitions="$REPS" \
  --out="$OUT_DIR"

if [ "$MICRO_ROUNDS" -gt 0 ]; then
  if ! command -v python3 >/dev/null; then
    echo "run-matrix.sh: no python3 here, the microbenchmarks are skipped" >&2
  else
    # One CPU for the single-thread benchmarks: a virtual machine may run a thread that
    # moves between CPUs at one speed or another for a whole process.
    pin=()
    command -v taskset >/dev/null && pin=(env COMPARE_CPUS="$(($(nproc) - 1))")
    "${pin[@]}" "$COMPARE" "$COMPARE_DIR" "$MICRO_ROUNDS" \
      'pair/malloc/(16|256|1024)$|(group|group_touch|group_zeroed)/malloc/threads:1$|phase.*malloc' \
      >"$OUT_DIR/micro-1-thread.txt"
    "$COMPARE" "$COMPARE_DIR" "$MICRO_ROUNDS" \
      "(group|group_touch|group_zeroed)/malloc/threads:$(nproc)\$" >"$OUT_DIR/micro-per-cpu.txt"
  fi
fi
