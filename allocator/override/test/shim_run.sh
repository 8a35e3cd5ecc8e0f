#!/usr/bin/env bash
# shim_run.sh - runs one program under libfio-malloc.so for ctest.
#
#   shim_run.sh SHIM -- PROGRAM [ARG...]
#       PROGRAM must succeed under the shim, and must have been served by it (its exit
#       statistics appear); its output passes through.
#   shim_run.sh --compare SHIM -- PROGRAM [ARG...]
#       also runs PROGRAM on glibc's malloc; both runs must succeed and print the same.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/shim_lib.sh"

compare=0
if [ "${1:-}" = --compare ]; then compare=1; shift; fi
[ $# -ge 3 ] && [ "$2" = -- ] || { echo "usage: shim_run.sh [--compare] SHIM -- PROGRAM [ARG...]" >&2; exit 2; }
shim_setup "$1"
shift 2

preloaded "$@" > "$WORK/preloaded.out"
cat "$WORK/preloaded.out"
served "$(basename "$1")"
if [ $compare = 1 ]; then
  plain "$@" > "$WORK/plain.out"
  same "$WORK/plain.out" "$WORK/preloaded.out" "the output of $(basename "$1")"
fi
