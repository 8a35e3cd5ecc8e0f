#!/usr/bin/env bash
# bundle.sh: a self-contained copy of allocbench for a machine that has none of its
# packages (a benchmark host without a compiler or a package registry).
#
#   harness/bundle.sh [DIR]      (default: device-bundle, which git ignores)
#
# Builds a Release tree in build/bundle with libstdc++ and libgcc linked statically, then
# fills DIR with:
#   bin/allocbench            the harness (its children are the same binary)
#   bin/allocbench-micro      the microbenchmarks `allocbench micro` runs
#   lib/libfio-malloc.so      the fio shim, found by allocbench next to bin/
#   lib/liballocbench-probe.so, programs/
#                             the probe and the built-in programs of --program (the host
#                             needs the programs' own executables)
#   lib/                      the peers' libraries (each installed allocator of allocbench's
#                             catalogue, `allocbench --list-allocators --format=json`) and every
#                             shared library they or allocbench need beyond glibc itself
#   run-matrix.sh             the side-by-side matrix of results/fio-speed-*: every
#                             allocator, threads 1 to 32, and the microbenchmarks, written
#                             under OUT (see its header)
# Copy DIR to the host and run DIR/run-matrix.sh there. The host needs only glibc of the
# same or a later version than this machine's.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/device-bundle}
BUILD=$ROOT/build/bundle
JOBS=${ALLOCBENCH_JOBS:-$(nproc)}

die() { printf 'bundle.sh: %s\n' "$*" >&2; exit 1; }

# Libraries that are part of glibc: every Linux host has its own, matched to its kernel.
is_glibc_part() {
  case "$(basename "$1")" in
    libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*.so.* | \
      libresolv.so.* | linux-vdso.so.*) return 0 ;;
  esac
  return 1
}

# Copies the non-glibc libraries `ldd` lists for $1 into $DIR/lib.
copy_dependencies() {
  local lib
  while read -r lib; do
    [ -n "$lib" ] || continue
    is_glibc_part "$lib" && continue
    cp -L "$lib" "$DIR/lib/"
  done < <(ldd "$1" | awk '/=> \// { print $3 }')
}

command -v ldd >/dev/null || die "ldd is needed to find the libraries to copy"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc" \
  -DCMAKE_SHARED_LINKER_FLAGS="-static-libstdc++ -static-libgcc" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target allocbench allocbench-micro allocbench-probe fio_malloc_override

rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib"
cp "$BUILD/harness/allocbench" "$BUILD/harness/allocbench-micro" "$DIR/bin/"
cp "$BUILD/allocator/override/libfio-malloc.so" "$BUILD/harness/liballocbench-probe.so" "$DIR/lib/"
cp -r "$ROOT/workloads/programs" "$DIR/programs"
copy_dependencies "$DIR/bin/allocbench"
copy_dependencies "$DIR/bin/allocbench-micro"
copy_dependencies "$DIR/lib/libfio-malloc.so"
# The peers, by the file names allocbench looks for (its catalogue): the installed
# allocators that come in a package.
cache=$(/sbin/ldconfig -p)
while read -r name sonames; do
  copied=""
  for soname in $sonames; do
    path=$(awk -v n="$soname" '$1 == n && /x86-64/ { print $NF; exit }' <<<"$cache")
    [ -n "$path" ] || continue
    cp -L "$path" "$DIR/lib/$soname"
    copy_dependencies "$DIR/lib/$soname"
    copied=1
    break
  done
  [ -n "$copied" ] || echo "bundle.sh: $name ($sonames) is not installed here; the bundle runs without it" >&2
done < <("$BUILD/harness/allocbench" --list-allocators --format=json | python3 -c '
import json, sys
for a in json.load(sys.stdin)["allocators"]:
    entry = a["catalogue"]
    if entry and entry["sonames"] and entry["package"]:
        print(a["name"], " ".join(entry["sonames"]))')
cp "$ROOT/harness/run-matrix.sh" "$DIR/"
git -C "$ROOT" rev-parse HEAD >"$DIR/REVISION" 2>/dev/null || true

# Every library the bundle holds must resolve inside it or to glibc.
missing=$(LD_LIBRARY_PATH="$DIR/lib" ldd "$DIR"/bin/* "$DIR"/lib/*.so* | grep 'not found' || true)
[ -z "$missing" ] || die "unresolved libraries in the bundle: $missing"
echo "bundle.sh: $DIR ($(du -sh "$DIR" | cut -f1)): copy it to the host and run $(basename "$DIR")/run-matrix.sh"
