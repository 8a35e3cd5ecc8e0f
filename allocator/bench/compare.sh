#!/usr/bin/env bash
# Runs the allocator microbenchmarks once per allocator and round, every allocator as the
# process's malloc in its own process: glibc plainly, fio through its override shim
# (libfio-malloc.so) and each peer through its library, all preloaded the same way. The
# allocators take turns within each round, so a slow spell of a shared machine hits them
# alike; the table gives medians over the rounds and fio's ratios to glibc and to the best
# peer.
#
#   allocator/bench/compare.sh BUILD_DIR [ROUNDS] [BENCHMARK_FILTER]
#
# BUILD_DIR needs the targets fio_mem_bench, fio_malloc_override and allocbench, whose
# allocator catalogue (`allocbench --list-allocators --format=json`) says which allocators
# there are and which library each preloads. It may also be a bundle made by
# harness/bundle.sh (bin/fio_mem_bench, bin/allocbench, the shim and the peers in lib/),
# for a machine without the packages: its copy is bundle/compare.sh. The "fio direct"
# column is fio's own API called from the plain process (no shim, no PLT), for reference.
#
# COMPARE_CPUS=LIST runs every process under `taskset -c LIST`. On a virtual machine
# whose scheduler moves a thread between CPUs, single-thread figures can differ by 1.7x
# from one process to the next (the same binary runs either fast or slow for its whole
# life); pinning to one CPU removes that, e.g. COMPARE_CPUS=1 with the filter
# 'threads:1|pair|phase'.
set -euo pipefail
BUILD=${1:?usage: compare.sh BUILD_DIR [ROUNDS] [FILTER]}
ROUNDS=${2:-9}
FILTER=${3:-.}
if [ -x "$BUILD/bin/fio_mem_bench" ]; then # a bundle: everything it needs is in lib/
  BIN="$BUILD/bin/fio_mem_bench"
  ALLOCBENCH="$BUILD/bin/allocbench"
  SHIM="$BUILD/lib/libfio-malloc.so"
  export LD_LIBRARY_PATH=$BUILD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  BIN="$BUILD/allocator/bench/fio_mem_bench"
  ALLOCBENCH="$BUILD/harness/allocbench"
  SHIM="$BUILD/allocator/override/libfio-malloc.so"
fi
for f in "$BIN" "$SHIM" "$ALLOCBENCH"; do
  [ -e "$f" ] || { echo "compare.sh: $f not built (cmake --build $BUILD --target fio_mem_bench fio_malloc_override allocbench)" >&2; exit 1; }
done
case "$ROUNDS" in ''|*[!0-9]*|0) echo "compare.sh: ROUNDS must be a positive integer, not '$ROUNDS'" >&2; exit 2;; esac
# NAME and the library to preload (none for the system's malloc), from the catalogue.
declare -A LIBS=()
NAMES=()
while IFS=$'\t' read -r name library; do
  NAMES+=("$name")
  LIBS[$name]=$library
done < <(ALLOCBENCH_FIO_LIB=$(realpath "$SHIM") "$ALLOCBENCH" --list-allocators --format=json | python3 -c '
import json, sys
for a in json.load(sys.stdin)["allocators"]:
    if not a["available"]:
        print("compare.sh:", a["name"], "not installed (" + a["reason"] + "), skipped", file=sys.stderr)
    elif a["catalogue"]:
        print(a["name"], a["library"] if a["catalogue"]["sonames"] else "", sep="\t")')
[ ${#NAMES[@]} -gt 0 ] || { echo "compare.sh: $ALLOCBENCH listed no allocator" >&2; exit 1; }
PIN=()
if [ -n "${COMPARE_CPUS:-}" ]; then
  command -v taskset >/dev/null || { echo "compare.sh: COMPARE_CPUS needs taskset (util-linux)" >&2; exit 1; }
  PIN=(taskset -c "$COMPARE_CPUS")
  "${PIN[@]}" true || { echo "compare.sh: COMPARE_CPUS='$COMPARE_CPUS' is not a CPU list taskset accepts" >&2; exit 2; }
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for round in $(seq 1 "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    echo "round $round/$ROUNDS: $name..." >&2
    preload=${LIBS[$name]:-}
    "${PIN[@]}" env ${preload:+LD_PRELOAD=$preload} "$BIN" --benchmark_filter="$FILTER" \
      --benchmark_min_time=0.2 --benchmark_format=json \
      --benchmark_out="$OUT/$name.$round.json" >/dev/null
  done
done

preloads=()
for name in "${NAMES[@]}"; do preloads+=("PRELOAD_${name//-/_}=${LIBS[$name]}"); done
env "${preloads[@]}" python3 - "$OUT" "${NAMES[@]}" <<'PY'
import glob, json, os, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
libs, rates = {}, {}  # rates[name][benchmark] = [M pairs/s per round]
for name in names:
    for path in sorted(glob.glob(os.path.join(out, name + ".*.json"))):
        data = json.load(open(path))
        lib = data["context"].get("malloc_library", "?")
        preload = os.environ.get("PRELOAD_" + name.replace("-", "_"), "")
        if preload and os.path.realpath(lib) != os.path.realpath(preload):
            sys.exit(f"compare.sh: the {name} run was served by {lib}, not {preload}: preload failed")
        libs[name] = lib
        for b in data["benchmarks"]:
            rates.setdefault(name, {}).setdefault(b["run_name"], []).append(
                b["items_per_second"] / 1e6)
med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in rates.items()}
cols = names + ["fio direct"]
print(f"{'benchmark (M pairs/s, median)':30}" + "".join(f"{c:>11}" for c in cols)
      + "  fio/glibc  fio/best peer")
for key in sorted(k for k in med["glibc"] if k.split("/")[1] == "malloc"):
    label = "/".join(p for p in key.split("/") if p != "malloc")
    vals = {n: med[n].get(key) for n in names}
    vals["fio direct"] = med["glibc"].get(key.replace("/malloc", "/fio", 1))
    peers = [vals[n] for n in names if n not in ("glibc", "fio") and vals[n]]
    best = max(peers) if peers else None
    row = f"{label:30}" + "".join(f"{vals[c]:11.1f}" if vals.get(c) else f"{'-':>11}" for c in cols)
    fio = vals["fio"]
    row += f"{fio / vals['glibc']:10.2f}x" if fio and vals["glibc"] else f"{'-':>11}"
    row += f"{fio / best:14.2f}x" if fio and best else f"{'-':>15}"
    print(row)
print(f"\n{len(rates['glibc'][next(iter(rates['glibc']))])} rounds; each allocator served malloc from:")
for name in names:
    print(f"  {name}: {libs[name]}")
PY
