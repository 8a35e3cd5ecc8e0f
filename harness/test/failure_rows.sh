#!/usr/bin/env bash
# A child that crashes, one that hangs, one whose content check fails and one that exits
# with an error each become a failed row with its reason; the rest of the suite completes.
source "$(dirname "$0")/lib.sh"
: "${ALLOCBENCH_TESTING:?}"

allocators=glibc
if installed_allocators | grep -q jemalloc; then allocators=glibc,jemalloc; fi
rc=0
"$ALLOCBENCH_TESTING" --workload=test-crash,alloc-free,test-hang,test-corrupt,test-exit,group-free \
  --allocator=$allocators --threads=1 --repetitions=1 --ops=2000 --timeout=1 --out=rows \
  >table.txt 2>progress.txt || rc=$?
[ "$rc" -eq 1 ] || { cat progress.txt; fail "exit status $rc (expected 1: some runs failed)"; }
expects=()
for a in ${allocators//,/ }; do
  expects+=(--expect "alloc-free:$a:ok" --expect "group-free:$a:ok"
    --expect "test-crash:$a:failed:crashed: SIGSEGV"
    --expect "test-hang:$a:failed:timeout after 1 s"
    --expect "test-corrupt:$a:failed:content check failed: "
    --expect "test-exit:$a:failed:exited with status 3")
done
rows=$((6 * $(echo "$allocators" | tr ',' '\n' | wc -l)))
$VALIDATE rows --rows "$rows" "${expects[@]}" || fail "unexpected rows"
grep -q 'FAILED test-crash glibc' progress.txt || fail "the failure was not reported as it happened"
grep -q '^group-free ' table.txt || fail "the suite did not go on after the failures"

# A run that did no work (a trace with no events) is a failed row, never an ok row of
# 0 ops/s in the medians.
$PYTHON - "$WORK/empty.abt" <<'PY'
import struct, sys
header = b"ABTRACE1" + struct.pack("<IIIIQQQ", 1, 64, 4242, 0, 0, 0, 1) + bytes(16)
assert len(header) == 64
end = struct.pack("<IIIIIIQ", 0x444E4541, 0, 0, 0, 8, 0, 0)  # complete, with no event
open(sys.argv[1], "wb").write(header + end)
PY
rc=0
"$ALLOCBENCH" --workload=trace-replay --param "trace=$WORK/empty.abt" --allocator=glibc \
  --threads=1 --repetitions=2 --out=empty >/dev/null 2>progress.txt || rc=$?
[ "$rc" -eq 1 ] || { cat progress.txt; fail "empty trace: exit status $rc (expected 1)"; }
$VALIDATE empty --rows 2 --expect "trace-replay:glibc:failed:no work done" \
  || fail "an empty trace gave rows that are not failed"
echo "ok"
