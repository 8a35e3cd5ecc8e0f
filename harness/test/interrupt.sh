#!/usr/bin/env bash
# SIGINT (Ctrl-C), SIGTERM or SIGHUP (the terminal closed) mid-suite: the running child is
# killed, what finished is in valid CSV and JSON, and allocbench exits with status 130.
source "$(dirname "$0")/lib.sh"
: "${ALLOCBENCH_TESTING:?}"

for signal in INT TERM HUP; do
  out=partial-$signal
  pid_file=$WORK/hang-$signal.pid
  "$ALLOCBENCH_TESTING" --workload=alloc-free,test-hang --allocator=glibc --threads=1 \
    --repetitions=2 --ops=2000 --timeout=100 --param "pid_file=$pid_file" --out="$out" \
    >table.txt 2>progress.txt &
  runner=$!
  wait_for_hang "$runner" "$pid_file" "SIG$signal: the hanging run never started"
  kill -"$signal" "$runner"
  rc=0
  wait "$runner" || rc=$?
  [ "$rc" -eq 130 ] || { cat progress.txt; fail "SIG$signal: exit status $rc (expected 130)"; }
  hang_pid=$(cat "$pid_file")
  gone_within "$hang_pid" 5 || fail "SIG$signal: the running child $hang_pid survived"
  $VALIDATE "$out" --rows 2 --all-ok || fail "SIG$signal: the partial results are not valid"
  grep -q 'interrupted' progress.txt || fail "SIG$signal: no word of the interruption"
done
echo "ok"
