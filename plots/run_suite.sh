#!/usr/bin/env bash
# The default suite: every workload, every installed allocator, threads 1, 2, the core
# count and twice it, three repetitions of 250 ms (`allocbench suite default`, the recipe in
# harness/run/suite_recipes.cpp); then the charts, the HTML report and a
# table of who won each workload. A second, short pass in latency mode gives the latency
# percentiles (kept out of the throughput figures). `./run_all.sh` calls it after the build.
#
#   plots/run_suite.sh [--quick] [--allocbench PATH] [--results-root DIR] [-- ALLOCBENCH ARGS...]
#
#   --quick              threads 1 and the core count, two repetitions of 20 ms, large's
#                        buffers checked at their ends only: about a minute, not ten
#   --allocbench PATH    the runner to use (default: ./allocbench, else build/release/harness/allocbench)
#   --results-root DIR   where the dated result directory goes (default: results/)
#   -- ARGS...           more allocbench arguments, for example -- --allocator=glibc,fio
#
# Results go to DIR/<date>-<host>/ (a new -2, -3, ... directory when that exists: earlier
# results are never touched). Environment: ALLOCBENCH_SUITE_REPETITIONS and
# ALLOCBENCH_SUITE_DURATION override the suite's scale.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=/usr/bin/python3  # Debian's, with python3-matplotlib
PLOTS="$ROOT/plots/allocbench-plots"

die() { printf 'run_suite.sh: %s\n' "$*" >&2; exit 2; }
log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

quick=0
allocbench=""
results_root="$ROOT/results"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --allocbench) [ $# -ge 2 ] || die "--allocbench needs a path"; allocbench=$2; shift ;;
    --allocbench=*) allocbench=${1#*=} ;;
    --results-root) [ $# -ge 2 ] || die "--results-root needs a directory"; results_root=$2; shift ;;
    --results-root=*) results_root=${1#*=} ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (accepted: --quick, --allocbench PATH, --results-root DIR, -- ALLOCBENCH ARGS)" ;;
  esac
  shift
done

if [ -z "$allocbench" ]; then
  for candidate in "$ROOT/allocbench" "$ROOT/build/release/harness/allocbench"; do
    if [ -x "$candidate" ]; then allocbench=$candidate; break; fi
  done
  [ -n "$allocbench" ] || die "allocbench not found (build it first: ./run_all.sh builds it, or pass --allocbench PATH)"
fi
[ -x "$allocbench" ] || die "--allocbench: $allocbench is not an executable"
[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3 python3-matplotlib)"

# The suite itself is `allocbench suite default` (harness/run/suite_recipes.cpp): its scale,
# measured on a 2-core machine (see results/README.md), and the latency pass into
# latency/ (timing calls costs a clock read each, kept out of the throughput runs).
suite_args=()
[ $quick -eq 1 ] && suite_args+=(--quick)
[ -n "${ALLOCBENCH_SUITE_REPETITIONS:-}" ] && suite_args+=(--set "repetitions=$ALLOCBENCH_SUITE_REPETITIONS")
[ -n "${ALLOCBENCH_SUITE_DURATION:-}" ] && suite_args+=(--set "duration=$ALLOCBENCH_SUITE_DURATION")

# A directory of its own: a second run the same day gets <date>-<host>-2, and so on.
# mkdir without -p claims the name atomically, so two suites never share one.
mkdir -p "$results_root" || die "cannot create $results_root"
stamp="$(date -u +%Y-%m-%d)-$(hostname -s 2>/dev/null || hostname)"
out="$results_root/$stamp"
n=2
until mkdir "$out" 2>/dev/null; do
  [ -w "$results_root" ] || die "cannot write to $results_root"
  out="$results_root/$stamp-$n"
  n=$((n + 1))
done

log "suite: allocbench suite default ${suite_args[*]} (every workload, every installed allocator)"
log "results: $out"
status=0
"$allocbench" suite default "${suite_args[@]}" --out="$out" -- "${extra[@]}" || status=$?

if [ ! -s "$out/results.json" ]; then
  rm -f "$out/latency.log"
  rmdir "$out" 2>/dev/null || true
  die "allocbench exited with status $status and wrote no results"
fi
case $status in
  0) ;;
  1) log "some runs failed; the report lists them with their reasons" ;;
  *) log "allocbench exited with status $status; drawing what it measured" ;;
esac

latency_args=()
if [ -s "$out/latency/results.json" ]; then
  latency_args=(--latency "$out/latency")
elif [ $status -le 1 ]; then
  log "the latency pass wrote no results (see $out/latency.log); charts without latency"
fi

log "drawing charts and the report"
"$PYTHON" "$PLOTS" "$out" "${latency_args[@]}" --quiet || die "allocbench-plots failed on $out/results.json"

echo
log "winner per workload: highest median throughput, and its ratio to glibc (or to the runner-up)"
"$PYTHON" "$PLOTS" "$out" --winners --no-report
echo
log "report: $out/report.html"
log "charts: $out/charts/   data: $out/results.csv, $out/results.json"
# Failed runs are results (shown in the report), not a failed suite; anything else is.
[ $status -le 1 ] || exit $status
