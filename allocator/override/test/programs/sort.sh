#!/usr/bin/env bash
# sort under the shim: a generated multi-megabyte file, sorted with two threads and a
# small buffer (so sort spills to temporary files and merges them), must come out byte
# for byte as on glibc, by whole line and by numeric key with duplicates removed.
#   sort.sh SHIM
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../shim_lib.sh"
shim_setup "$1"
export LC_ALL=C

# About 5 MB of lines "word number text", from a fixed seed.
awk 'BEGIN {
  srand(20261127);
  for (i = 0; i < 120000; i++) {
    n = int(rand() * 1000000000);
    printf "w%07x %d %s\n", int(rand() * 268435455), n, substr("lorem ipsum dolor sit amet consectetur", 1 + (n % 20));
  }
}' > "$WORK/input.txt"
mkdir "$WORK/tmp"

for mode in plain preloaded; do
  $mode sort --parallel=2 -S 1M -T "$WORK/tmp" "$WORK/input.txt" > "$WORK/$mode.lines.out"
  $mode sort --parallel=2 -S 1M -T "$WORK/tmp" -k2,2n -u "$WORK/input.txt" > "$WORK/$mode.numeric.out"
done
same "$WORK/plain.lines.out" "$WORK/preloaded.lines.out" "sort by line"
same "$WORK/plain.numeric.out" "$WORK/preloaded.numeric.out" "sort -k2,2n -u"
served sort
echo "sort: $(wc -c < "$WORK/input.txt") bytes sorted identically under the shim"
