#!/usr/bin/env bash
# No child outlives its parent, whatever ends the parent: SIGKILL, which no handler sees,
# leaves no hanging run behind; and a child whose parent died before it could ask to die
# with it does not run at all.
source "$(dirname "$0")/lib.sh"
: "${ALLOCBENCH_TESTING:?}"

# The parent killed with SIGKILL while a run hangs: the run dies too.
pid_file=$WORK/hang.pid
"$ALLOCBENCH_TESTING" --workload=test-hang --allocator=glibc --threads=1 --repetitions=1 \
  --timeout=300 --param "pid_file=$pid_file" --out=killed >table.txt 2>progress.txt &
runner=$!
wait_for_hang "$runner" "$pid_file" "the hanging run never started"
hang_pid=$(cat "$pid_file")
kill -KILL "$runner"
wait "$runner" 2>/dev/null || true
if ! gone_within "$hang_pid" 10; then
  kill -KILL "$hang_pid" 2>/dev/null
  fail "the run $hang_pid outlived its parent killed by SIGKILL"
fi
$VALIDATE killed --rows 0 || fail "the files of the killed parent are not valid"

# A child started for a parent that is already gone (here: a pid that is not its parent)
# stops before it runs anything.
request='{"allocator":{"name":"glibc","library":"","kind":"glibc"},"workload":{"name":"test-hang","params":[["pid_file",""]],"size":"64","threads":1,"ops":1000,"duration_s":0,"seed":42}}'
rc=0
ALLOCBENCH_PARENT_PID=999999999 timeout 60 "$ALLOCBENCH_TESTING" __child "$request" \
  3>/dev/null 2>child.err || rc=$?
[ "$rc" -ne 124 ] || fail "a child whose parent is gone ran its workload (it hung)"
[ "$rc" -ne 0 ] || fail "a child whose parent is gone reported success"
grep -q 'parent is gone' child.err || fail "no word of the missing parent: $(cat child.err)"
echo "ok"
