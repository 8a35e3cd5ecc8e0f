#!/usr/bin/env bash
# Counted mode: each workload child under callgrind counts the measured phase only; the
# counts repeat exactly, land in each run's extra figures, and compare judges them against
# the bound alone.
source "$(dirname "$0")/lib.sh"
if ! command -v valgrind >/dev/null; then
  echo "valgrind is not installed: counted mode cannot run here" >&2
  exit 77
fi

"$ALLOCBENCH" --workload=alloc-free,group-free --threads=1 --allocator=glibc,fio \
  --measure=instructions --ops=40000 --repetitions=2 --timeout=120 --out=counted \
  >/dev/null 2>progress.txt || { cat progress.txt; fail "counted mode did not run cleanly"; }
$VALIDATE counted --rows 8 --all-ok || fail "unexpected rows in counted mode"
$PYTHON - counted/results.json <<'PY' || fail "the counted figures are not what was measured"
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
by = {}
for r in runs:
    e = r["extra"]
    for k in ("cg_instructions_per_op", "cg_data_reads_per_op", "cg_data_writes_per_op",
              "cg_l1_misses_per_op", "cg_ll_misses_per_op"):
        assert k in e, (r["benchmark"], r["allocator"], e)
    # The measured phase only: an allocation and a free with the object written and
    # checked cost tens to hundreds of instructions, not the millions of start-up.
    assert 20 < e["cg_instructions_per_op"] < 5000, e
    by.setdefault((r["benchmark"], r["allocator"]), []).append(e["cg_instructions_per_op"])
for key, values in by.items():
    assert len(values) == 2, key
    assert abs(values[0] - values[1]) <= 0.001 * values[0], (key, values)  # within 0.1%
PY
# The file against itself: every counted figure unchanged, exit 0.
"$ALLOCBENCH" compare counted counted --metric=cg_instructions_per_op --min-effect=3% \
  >compare.txt || fail "compare of counted figures against themselves: $(cat compare.txt)"
grep -q "counted change of 0.00%" compare.txt || fail "no exact verdict: $(cat compare.txt)"

# Microbenchmarks counted: N and 2N iterations under callgrind, the difference per operation.
"$ALLOCBENCH" micro --measure=instructions --filter='^BM_malloc_free/64/' --allocator=glibc,fio \
  --repetitions=2 --out=counted-micro >/dev/null 2>progress.txt ||
  { cat progress.txt; fail "counted microbenchmarks did not run cleanly"; }
$PYTHON - counted-micro/results.json <<'PY' || fail "the counted micro figures are not exact"
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert len(runs) == 4, len(runs)
by = {}
for r in runs:
    assert r["status"] == "ok", r
    # The benchmark's name, not how many iterations it ran.
    assert r["benchmark"] == "micro/bench=BM_malloc_free/64/threads=1", r["benchmark"]
    n = r["extra"]["cg_instructions_per_op"]
    # A malloc or a free costs tens of instructions; the start-up (millions) cancelled out.
    assert 5 < n < 500, n
    by.setdefault(r["allocator"], []).append(n)
for alloc, values in by.items():
    assert abs(values[0] - values[1]) <= 0.001 * values[0], (alloc, values)
PY
rc=0
"$ALLOCBENCH" micro --measure=cycles --out=refused >/dev/null 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -qF "'cycles' is not accepted" err.txt || fail "micro --measure=cycles: $rc"

refuse_measure() {
  local fragment=$1 rc=0
  shift
  "$ALLOCBENCH" --workload=alloc-free "$@" --out=refused >/dev/null 2>err.txt || rc=$?
  [ "$rc" -eq 2 ] || fail "exit status $rc (expected 2) for: $*"
  grep -qF -- "$fragment" err.txt || fail "'$fragment' not in: $(cat err.txt)"
}
refuse_measure "--measure: 'cycles' is not accepted" --measure=cycles
refuse_measure "not --duration" --measure=instructions --duration=1s
refuse_measure "cannot be combined" --measure=instructions --latency
echo "counted: ok"
