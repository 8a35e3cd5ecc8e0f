#!/usr/bin/env bash
# The CI regression check of `./run_all.sh test`, and the recording of its baseline.
#
#   harness/ci_regression.sh check  BUILD_DIR   measure the CI suite into BUILD_DIR/ci-regression
#                                               and compare fio with results/baseline/
#   harness/ci_regression.sh record BUILD_DIR   measure the CI suite into results/baseline/
#                                               (commit it after an intended change)
#
# The suite takes seconds: `allocbench suite ci` (harness/run/suite_recipes.cpp), group-free
# and alloc-free at 1 thread and two microbenchmarks, glibc and fio, 6 repetitions each
# (with 6 against 6 the U test can reach p = 0.002; 3 against 3 could never reach 0.05).
# The verdict compares fio as a ratio to glibc measured
# in the same run, so a CI machine slower than the one that recorded the baseline is not a
# regression, and fails only on a regression that is both significant (alpha 0.05) and
# larger than 40%: shared two-core CI machines show 10 to 20% run-to-run noise.
#
# Then the counted check: fio's paths (malloc/free pairs, a group, cross-thread frees,
# calloc, and a pair and a batch as microbenchmarks) under callgrind
# (`--measure=instructions`, the recipe's counted/, counted-calloc/ and counted-micro/),
# compared with results/baseline/counted*/ on instructions per operation
# with a bound of COUNTED_EFFECT. Counts repeat exactly on one machine, so the bound can
# be tight; on a CPU whose feature flags differ from the baseline's (cpu-flags.txt: glibc
# picks its string functions by them) the counts differ for reasons of their own, and the
# check reports without failing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

MIN_EFFECT=40%
COUNTED_EFFECT=0.5%

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -eq 2 ] || usage
mode=$1
build=$2
allocbench=$build/harness/allocbench
[ -x "$allocbench" ] || { echo "ci_regression.sh: $allocbench not built" >&2; exit 2; }

# The CPU's feature flags: glibc picks its string functions by them, so counts compare
# exactly only between CPUs that have the same.
cpu_flags() { grep -m1 '^flags' /proc/cpuinfo | tr -s ' \t' ' '; }

measure() {
  local out=$1
  rm -rf "$out"
  "$allocbench" suite ci --out="$out" >/dev/null
}

case $mode in
  check)
    baseline=$ROOT/results/baseline/results.json
    [ -f "$baseline" ] || { echo "ci_regression.sh: no baseline at $baseline" \
      "(record one with: harness/ci_regression.sh record $build)" >&2; exit 2; }
    measure "$build/ci-regression"
    status=0
    # --require-base: a benchmark of the baseline that this build no longer produces (a
    # workload's parameters changed) is no data (status 3) rather than passing unchecked.
    "$allocbench" compare --ratio-to=glibc --allocator=fio --min-effect=$MIN_EFFECT \
      --require-base "$baseline" "$build/ci-regression/results.json" \
      >"$build/ci-regression/compare.txt" || status=$?
    cat "$build/ci-regression/compare.txt"
    if [ $status -eq 3 ]; then
      echo "ci_regression.sh: no verdict on data of both sides (the report says which);" \
        "if the baseline is stale, re-record it: harness/ci_regression.sh record $build" >&2
    fi
    for part in counted counted-calloc counted-micro; do
      base=$ROOT/results/baseline/$part/results.json
      new=$build/ci-regression/$part/results.json
      [ -f "$base" ] || { echo "ci_regression.sh: no counted baseline at $base" >&2; status=3; continue; }
      counted_status=0
      "$allocbench" compare --allocator=fio --metric=cg_instructions_per_op \
        --min-effect=$COUNTED_EFFECT --require-base "$base" "$new" \
        >"$build/ci-regression/$part-compare.txt" || counted_status=$?
      cat "$build/ci-regression/$part-compare.txt"
      if [ "$(cpu_flags)" = "$(cat "$ROOT/results/baseline/cpu-flags.txt" 2>/dev/null)" ]; then
        [ $status -ne 0 ] || status=$counted_status
      elif [ $counted_status -ne 0 ]; then
        echo "ci_regression.sh: $part: the baseline was counted on a CPU with other features;" \
          "reported, not failing (re-record the baseline on this machine kind to gate on it)" >&2
      fi
    done
    exit $status
    ;;
  record)
    measure "$ROOT/results/baseline"
    cpu_flags >"$ROOT/results/baseline/cpu-flags.txt"
    echo "recorded $ROOT/results/baseline/ (results.json, results.csv, counted/, counted-calloc/, counted-micro/, cpu-flags.txt): commit it"
    ;;
  *) usage ;;
esac
