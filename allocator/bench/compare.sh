#!/usr/bin/env bash
# Runs the allocator microbenchmarks once per allocator (glibc plainly, each peer with
# its library preloaded into its own process) and prints medians and ratios to glibc.
#
#   allocator/bench/compare.sh BUILD_DIR [REPETITIONS] [BENCHMARK_FILTER]
#
# fio's rows come from the plain run (fio is called directly, whatever serves malloc).
set -euo pipefail
BUILD=${1:?usage: compare.sh BUILD_DIR [REPETITIONS] [FILTER]}
REPS=${2:-9}
FILTER=${3:-.}
BIN="$BUILD/allocator/bench/fio_mem_bench"
[ -x "$BIN" ] || { echo "compare.sh: $BIN not built (cmake --build $BUILD --target fio_mem_bench)" >&2; exit 1; }
LIBDIR=/usr/lib/x86_64-linux-gnu
declare -A PEERS=(
  [mimalloc]=$LIBDIR/libmimalloc.so.2
  [tcmalloc]=$LIBDIR/libtcmalloc_minimal.so.4
  [jemalloc]=$LIBDIR/libjemalloc.so.2
)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

run() { # name [preload]
  local name=$1 preload=${2:-}
  echo "running $name..." >&2
  env ${preload:+LD_PRELOAD=$preload} "$BIN" --benchmark_filter="$FILTER" \
    --benchmark_repetitions="$REPS" --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true \
    --benchmark_format=json --benchmark_out="$OUT/$name.json" >/dev/null
}

run glibc
for peer in mimalloc tcmalloc jemalloc; do
  if [ -e "${PEERS[$peer]}" ]; then run "$peer" "${PEERS[$peer]}"
  else echo "compare.sh: $peer not installed (${PEERS[$peer]}), skipped" >&2; fi
done

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
runs = {}
for name in ["glibc", "mimalloc", "tcmalloc", "jemalloc"]:
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        continue
    data = json.load(open(path))
    lib = data["context"].get("malloc_library", "?")
    if name != "glibc" and name not in lib:
        sys.exit(f"compare.sh: the {name} run was served by {lib}: preload failed")
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[b["run_name"]] = b["items_per_second"] / 1e6
    runs[name] = (lib, med)
glibc = runs["glibc"][1]
cols = ["fio"] + list(runs)
print(f"{'benchmark (M pairs/s, median)':34}" + "".join(f"{c:>10}" for c in cols) + "   fio/glibc  fio/best-peer")
for key in sorted(k for k in glibc if k.split("/")[1] == "malloc"):
    parts = key.split("/")
    fio_key = "/".join(p if p != "malloc" else "fio" for p in parts)
    label = "/".join(p for p in parts if p != "malloc")
    vals = {"fio": runs["glibc"][1].get(fio_key)}
    for name, (_, med) in runs.items():
        vals[name] = med.get(key)
    peers = [v for n, v in vals.items() if n not in ("fio", "glibc") and v]
    best = max([vals["glibc"]] + peers)
    row = f"{label:34}" + "".join(f"{vals[c]:10.1f}" if vals.get(c) else f"{'-':>10}" for c in cols)
    row += f"{vals['fio'] / vals['glibc']:11.2f}x{vals['fio'] / best:14.2f}x"
    print(row)
print()
for name, (lib, _) in runs.items():
    print(f"{name}: malloc from {lib}")
PY
