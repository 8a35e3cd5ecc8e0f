#!/usr/bin/env bash
# Program benchmarks: a user's command and the built-in programs run under each allocator,
# every process of the tree proven by the probe, the output compared across allocators; a
# process served by another library and an output that differs are failed rows, and a
# command that cannot run is refused before anything is written.
source "$(dirname "$0")/lib.sh"

allocators=glibc,fio
if installed_allocators | grep -q jemalloc; then allocators=glibc,fio,jemalloc; fi
n=$(echo "$allocators" | tr ',' '\n' | wc -l)

# A small tree of processes (sh, seq, sort, tail), each of which must be served by the
# allocator asked for, with the same output everywhere.
"$ALLOCBENCH" --program-cmd="sh -c 'seq 1 20000 | sort -rn | tail -1'" --program-name=sortseq \
  --allocator=$allocators --repetitions=2 --out=user >table.txt 2>progress.txt ||
  { cat progress.txt; fail "the user's command did not run cleanly"; }
$VALIDATE user --rows $((2 * n)) --all-ok || fail "unexpected rows of the user's command"
$PYTHON - user/results.json "$allocators" <<'PY' || fail "the program rows are not what was measured"
import json, sys
data = json.load(open(sys.argv[1]))
assert {r["allocator"] for r in data["runs"]} == set(sys.argv[2].split(",")), data["runs"]
for r in data["runs"]:
    assert r["workload"] == "program" and r["params"] == {"name": "sortseq"}, r
    assert r["benchmark"] == "program/name=sortseq/threads=1", r["benchmark"]
    m = r["metrics"]
    assert m["wall_s"] > 0 and m["peak_rss_kib"] > 0 and m["user_s"] is not None, m
    assert m["ops_per_s"] is None, m  # a program counts no operations
    assert r["proof"]["malloc_from"], r
for s in data["summaries"]:
    assert "wall_s" in s["stats"] and "ops_per_s" not in s["stats"], s
PY
grep -q '^sortseq ' table.txt || fail "no table row for the program: $(cat table.txt)"

# A process that another allocator serves (here: when fio was asked for, a child that
# keeps only the probe of LD_PRELOAD, so glibc serves it) is a failed row naming it; an
# output that depends on the allocator is one too.
rc=0
"$ALLOCBENCH" --program-cmd="sh -c 'case \"\$LD_PRELOAD\" in *fio*) LD_PRELOAD=\"\${LD_PRELOAD#*:}\" /bin/true ;; *) /bin/true ;; esac'" \
  --program-name=escape --allocator=glibc,fio --repetitions=1 --out=escape >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc for a process served by another library (expected 1)"
$VALIDATE escape --rows 2 --expect "program:glibc:ok" \
  --expect "program:fio:failed:allocator mismatch: /usr/bin/true" || fail "the escape is not a failed row"
rc=0
"$ALLOCBENCH" --program-cmd="sh -c 'echo \"\$LD_PRELOAD\"'" --program-name=differs \
  --allocator=glibc,fio --repetitions=1 --out=differs >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc for an output that differs (expected 1)"
$VALIDATE differs --rows 2 --expect "program:glibc:ok" \
  --expect "program:fio:failed:output differs from glibc's" || fail "the difference is not a failed row"
"$ALLOCBENCH" --program-cmd="sh -c 'echo \"\$LD_PRELOAD\"'" --program-output=ignore \
  --allocator=glibc,fio --repetitions=1 --out=ignored >/dev/null 2>&1 ||
  fail "--program-output=ignore still compared the output"

# Refused before anything runs: exit 2, one line, no result file.
refuse_cmd() {
  local fragment=$1 rc=0
  shift
  "$ALLOCBENCH" "$@" --out=refused >/dev/null 2>err.txt || rc=$?
  [ "$rc" -eq 2 ] || fail "exit status $rc (expected 2) for: $*"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "not one line for: $*: $(cat err.txt)"
  grep -qF -- "$fragment" err.txt || fail "'$fragment' not in: $(cat err.txt)"
  [ ! -e refused/results.json ] || fail "a result file was written for: $*"
}
refuse_cmd "'./no-such-program' does not exist" --program-cmd=./no-such-program
refuse_cmd "is not executable" --program-cmd="$HARNESS_DIR/RESULTS.md"
refuse_cmd "fails under glibc itself: exited with status 3" --program-cmd="sh -c 'exit 3'"
refuse_cmd "unknown program 'nope'" --program=nope
refuse_cmd "unterminated" --program-cmd="sh -c 'echo"

# The built-in programs: each installed one runs and passes under glibc and fio; the
# listing names them all, with what each needs.
programs=$(listed_names "$ALLOCBENCH" --list programs available)
[ -n "$(listed_names "$ALLOCBENCH" --list programs)" ] || fail "--list names no program"
if [ -z "$programs" ]; then
  echo "no built-in program is installed here; skipped their runs" >&2
else
  "$ALLOCBENCH" --program="$programs" --allocator=glibc,fio --repetitions=1 --timeout=60 \
    --out=builtin >/dev/null 2>progress.txt || { cat progress.txt; fail "a built-in program failed"; }
  count=$(echo "$programs" | tr ',' '\n' | wc -l)
  $VALIDATE builtin --rows $((2 * count)) --all-ok || fail "unexpected rows of the built-in programs"
fi
echo "programs: ok"
