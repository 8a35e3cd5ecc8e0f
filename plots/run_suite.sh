#!/usr/bin/env bash
# The default suite: every workload, every installed allocator, threads 1, 2, the core
# count and twice it, three repetitions of 250 ms; then the charts, the HTML report and a
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

cores=$(nproc)

# Scale, measured on a 2-core machine (see results/README.md). Each run is a fresh child
# per allocator; its cost is the duration plus start-up and the content checks. A run that
# hangs fails at the timeout (a healthy one takes a fraction of it) and the suite goes on.
if [ $quick -eq 1 ]; then
  # A smoke run of everything: one thread and every core, two repetitions (a spread).
  threads=$(printf '%s\n' 1 "$cores" | sort -n -u | paste -sd, -)
  repetitions=${ALLOCBENCH_SUITE_REPETITIONS:-2}
  duration=${ALLOCBENCH_SUITE_DURATION:-20ms}
  timeout=5s
  latency_threads=1
  # large writes every page of its 16 KiB..4 MiB buffers by default, which takes seconds
  # per run whatever the duration; a smoke run checks the buffers' ends only.
  scale_args=(--param touch=ends)
else
  # Threads 1, 2, the core count and twice it (oversubscribed), without duplicates.
  threads=$(printf '%s\n' 1 2 "$cores" $((2 * cores)) | sort -n -u | paste -sd, -)
  repetitions=${ALLOCBENCH_SUITE_REPETITIONS:-3}
  duration=${ALLOCBENCH_SUITE_DURATION:-250ms}
  timeout=20s
  scale_args=()
  latency_threads=$(printf '%s\n' 1 "$cores" | sort -n -u | paste -sd, -)
fi

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

log "suite: every workload, every installed allocator, threads $threads, $repetitions repetitions of $duration each$([ $quick -eq 1 ] && echo ' (quick)')"
log "results: $out"
status=0
"$allocbench" --workload=all --threads="$threads" --repetitions="$repetitions" \
  --duration="$duration" --timeout="$timeout" "${scale_args[@]}" --out="$out" "${extra[@]}" || status=$?

if [ ! -s "$out/results.json" ]; then
  rmdir "$out" 2>/dev/null || true
  die "allocbench exited with status $status and wrote no results"
fi
case $status in
  0) ;;
  1) log "some runs failed; the report lists them with their reasons" ;;
  *) log "allocbench exited with status $status; drawing what it measured" ;;
esac

# Latency percentiles come from separate runs (timing calls costs a clock read each, kept
# out of the throughput above): one repetition per workload, allocator and thread count.
latency_args=()
if [ $status -le 1 ]; then
  log "latency pass: threads $latency_threads, one call in 16 timed"
  lstatus=0
  "$allocbench" --workload=all --threads="$latency_threads" --repetitions=1 --latency=16 \
    --rss-interval=0 --duration="$duration" --timeout="$timeout" "${scale_args[@]}" --out="$out/latency" \
    "${extra[@]}" > "$out/latency.log" 2>&1 || lstatus=$?
  if [ -s "$out/latency/results.json" ]; then
    latency_args=(--latency "$out/latency")
    [ $lstatus -eq 0 ] || log "latency pass: some runs failed (see the report, and $out/latency.log)"
  else
    log "latency pass wrote no results (status $lstatus; see $out/latency.log); charts without latency"
  fi
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
