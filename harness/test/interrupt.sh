#!/usr/bin/env bash
# SIGINT mid-suite: the running child is killed, what finished is in valid CSV and JSON,
# and allocbench exits with status 130.
source "$(dirname "$0")/lib.sh"
: "${ALLOCBENCH_TESTING:?}"

"$ALLOCBENCH_TESTING" --workload=alloc-free,test-hang --allocator=glibc --threads=1 \
  --repetitions=2 --ops=2000 --timeout=100 --param "pid_file=$WORK/hang.pid" --out=partial \
  >table.txt 2>progress.txt &
runner=$!
for _ in $(seq 1 300); do
  [ -s hang.pid ] && break
  kill -0 "$runner" 2>/dev/null || break
  sleep 0.1
done
[ -s hang.pid ] || { kill "$runner" 2>/dev/null; cat progress.txt; fail "the hanging run never started"; }
kill -INT "$runner"
rc=0
wait "$runner" || rc=$?
[ "$rc" -eq 130 ] || { cat progress.txt; fail "exit status $rc (expected 130)"; }
hang_pid=$(cat hang.pid)
for _ in $(seq 1 50); do kill -0 "$hang_pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$hang_pid" 2>/dev/null || fail "the running child $hang_pid survived the interrupt"
$VALIDATE partial --rows 2 --all-ok || fail "the partial results are not valid"
grep -q 'interrupted' progress.txt || fail "no word of the interruption"
echo "ok"
