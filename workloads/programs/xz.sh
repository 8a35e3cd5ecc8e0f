#!/bin/sh
# xz: write a log-like text file, compress it with xz on two threads, decompress it
# again and print the checksums of the original and of the round trip (they must match).
# Runs in an empty scratch directory; every file it writes stays there.
set -eu

lines=90000

# A fixed Park-Miller sequence keeps the data the same under any awk (mawk, gawk):
# every product stays below 2^53, so it is exact in awk's doubles.
awk -v lines="$lines" 'BEGIN {
  split("GET POST PUT DELETE", verb, " ")
  split("users items orders carts search reports sessions images", res, " ")
  split("200 200 200 200 201 204 304 404 500", st, " ")
  s = 12345
  for (i = 0; i < lines; i++) {
    s = (s * 16807) % 2147483647
    printf "%07d %s /api/v%d/%s/%d status=%s bytes=%d ms=%d\n", i, verb[1 + s % 4],
      1 + s % 3, res[1 + s % 8], s % 50000, st[1 + s % 9], s % 65536, s % 997
  }
}' >data.txt

# Blocks of 1 MiB give both threads blocks to work on in both directions (the default
# block is three times the dictionary, 12 MiB at -3).
xz -T2 -3 --block-size=1MiB -c data.txt >data.txt.xz
xz -d -T2 -c data.txt.xz >roundtrip.txt

original=$(cksum <data.txt)
roundtrip=$(cksum <roundtrip.txt)
echo "original: $original"
echo "roundtrip: $roundtrip"
echo "compressed_bytes: $(wc -c <data.txt.xz)"
if [ "$original" != "$roundtrip" ]; then
  echo "xz: the round trip changed the data" >&2
  exit 1
fi
