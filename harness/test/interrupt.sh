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
  for _ in $(seq 1 300); do
    [ -s "$pid_file" ] && break
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$pid_file" ] || { kill "$runner" 2>/dev/null; cat progress.txt; fail "SIG$signal: the hanging run never started"; }
  kill -"$signal" "$runner"
  rc=0
  wait "$runner" || rc=$?
  [ "$rc" -eq 130 ] || { cat progress.txt; fail "SIG$signal: exit status $rc (expected 130)"; }
  hang_pid=$(cat "$pid_file")
  for _ in $(seq 1 50); do kill -0 "$hang_pid" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$hang_pid" 2>/dev/null || fail "SIG$signal: the running child $hang_pid survived"
  $VALIDATE "$out" --rows 2 --all-ok || fail "SIG$signal: the partial results are not valid"
  grep -q 'interrupted' progress.txt || fail "SIG$signal: no word of the interruption"
done
echo "ok"
