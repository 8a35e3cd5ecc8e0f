#!/usr/bin/env bash
# Bad input: exit status 2, one line on stderr naming the problem, nothing run or written.
source "$(dirname "$0")/lib.sh"

checked=0
refuse() {
  local fragment=$1
  shift
  local rc=0
  "$ALLOCBENCH" "$@" >stdout.txt 2>stderr.txt || rc=$?
  [ "$rc" -eq 2 ] || fail "exit status $rc (expected 2) for: $*; stderr: $(cat stderr.txt)"
  [ "$(wc -l <stderr.txt)" -eq 1 ] || fail "stderr is not one line for: $*: $(cat stderr.txt)"
  grep -q '^allocbench: error: ' stderr.txt || fail "no 'allocbench: error:' for: $*"
  grep -qF -- "$fragment" stderr.txt || fail "'$fragment' not in: $(cat stderr.txt)"
  [ ! -e allocbench-results ] || fail "a default output directory was created for: $*"
  checked=$((checked + 1))
}

W=--workload=alloc-free
refuse "no workload given"
refuse "unknown workload 'nope' (accepted: " --workload=nope
refuse "unknown workload 'nope'" --workload=alloc-free,nope
refuse "empty item" --workload=alloc-free,
refuse "unknown allocator 'hoard' (accepted: $(builtin_allocators | sed 's/,/, /g'), or NAME=/path/to/lib.so)" $W --allocator=hoard
refuse "given twice" $W --allocator=glibc,glibc
refuse "0 threads" $W --threads=0
refuse "0 threads" $W --threads=0..4
refuse "more than the limit 1024" $W --threads=5000
refuse "not a number" $W --threads=many
refuse "backwards" $W --threads=8..2
refuse "--size" $W --size=512..16
refuse "--size" $W --size=16..
refuse "--size" $W --size=no-such-table
refuse "--size" $W --size=0
refuse "does not exist" $W --allocator=mine=/nonexistent/libmine.so
refuse "is not an ELF shared library" $W "--allocator=mine=$HARNESS_DIR/RESULTS.md"
refuse "does not define malloc" $W "--allocator=fake=$NOT_MALLOC_LIB"
refuse "preload did not take effect" $W "--allocator=pie=$ALLOCBENCH_TESTING"
refuse "error while loading shared libraries" $W "--allocator=ghostly=$MISSING_DEPENDENCY_LIB"
refuse "no selected workload takes 'nope'" $W --param nope=1
refuse "'csv' is not a listing format (accepted with --list and --list-allocators: text, json)" --list --format=csv
refuse "unknown suite 'nope' (accepted: default, matrix, track, ci)" suite nope --out=suite-out
refuse "--cpus: 'x' is not a CPU number" $W --cpus=x
refuse "--cpus: range '3-1' runs backwards" $W --cpus=3-1
refuse "--cpus: cannot run on CPUs 1000" $W --cpus=1000
refuse "--cpus: empty item in '1,'" micro --cpus=1, --out=micro-out
refuse "'nope=1' is not a parameter of suite matrix" suite matrix --set nope=1 --out=suite-out

# A suite's recipe, as the commands it runs: every step, its scale and its directory.
"$ALLOCBENCH" suite default --quick --dry-run --out=suite-out -- --allocator=glibc >dry.txt ||
  fail "suite --dry-run failed"
[ "$(wc -l <dry.txt)" -eq 2 ] || fail "suite default has not 2 steps: $(cat dry.txt)"
grep -q -- "--repetitions=2 .*--allocator=glibc --out=suite-out\$" dry.txt || fail "quick step: $(cat dry.txt)"
grep -q -- "--latency=16 .*--out=suite-out/latency\$" dry.txt || fail "latency step: $(cat dry.txt)"
# The matrix's microbenchmark steps: single-thread ones pinned to the last CPU.
"$ALLOCBENCH" suite matrix --quick --dry-run --out=suite-out >dry.txt || fail "matrix --dry-run failed"
[ "$(wc -l <dry.txt)" -eq 4 ] || fail "suite matrix has not 4 steps: $(cat dry.txt)"
grep -q -- " micro --cpus=$(($(nproc) - 1)) .*--out=suite-out/micro-1-thread\$" dry.txt ||
  fail "matrix micro-1-thread step: $(cat dry.txt)"
[ ! -e suite-out ] || fail "suite --dry-run created its directory"
refuse "--param for group-free" --workload=group-free --param group=lots
refuse "--repetitions" $W --repetitions=0
refuse "--ops" $W --ops=0
refuse "--ops" $W --ops=1.5M
refuse "excludes" $W --ops=10k --duration=1s
refuse "--duration" $W --duration=forever
refuse "--timeout" $W --timeout=0
# Work that cannot happen, and times that would overflow the clocks, are refused up front.
refuse "--ops: 1 operations cannot be split over 1 threads" $W --threads=1 --ops=1
refuse "--ops: 6 operations cannot be split over 4 threads" $W --threads=1,4 --ops=6
refuse "--duration: '10000000000s' is longer than the limit" $W --duration=10000000000s
refuse "--timeout: '10000000000s' is longer than the limit" $W --timeout=10000000000s
refuse "--timeout: '9223372037' is longer than the limit" $W --timeout=9223372037
refuse "--duration: '0.0000001' is shorter than 1 ms" $W --duration=0.0000001
# Every workload parameter is checked against its declaration before anything runs.
refuse "parameter 'mode' of workload 'false-sharing' takes one of active, passive, not 'bogus'" \
  --workload=false-sharing --param mode=bogus
refuse "parameter 'touch' of workload 'large' takes one of full, lines, pages, ends" \
  --workload=large --param touch=bogus
refuse "--touch: 'most' is not a level (accepted: full, lines, pages, ends)" $W --touch=most
refuse "--touch=ends and --param touch=full disagree" $W --touch=ends --param touch=full
refuse "parameter 'node_size' of workload 'locality' takes an integer from 16" \
  --workload=locality --param node_size=8
refuse "parameter 'survive' of workload 'phased' takes an integer from 0 to 100" \
  --workload=phased --param survive=200
refuse "parameter 'keep_one_in' of workload 'long-lived' takes an integer from 1" \
  --workload=long-lived --param keep_one_in=0
refuse "trace file /nonexistent/trace.abt cannot be found" \
  --workload=trace-replay --param trace=/nonexistent/trace.abt
mkdir -p a-directory
refuse "$PWD/a-directory is not a regular file" --workload=trace-replay --param "trace=$PWD/a-directory"
refuse "no trace 'bogus'" --workload=trace-replay --param trace=bogus
refuse "is not an allocation trace" --workload=trace-replay --param "trace=$HARNESS_DIR/RESULTS.md"
refuse "--format: unknown format 'xml'" $W --format=xml
refuse "--seed" $W --seed=-4
refuse "not expected" $W --bogus
refuse "cannot create directory" $W --out=/dev/null/results
touch a-file
refuse "is not a directory" $W --out=a-file

# Results already in --out are never overwritten without --force.
mkdir kept
printf 'precious\n' >kept/results.csv
refuse "kept/results.csv already exists (use --force" $W --out=kept
[ "$(cat kept/results.csv)" = precious ] || fail "existing results.csv was modified"
"$ALLOCBENCH" $W --allocator=glibc --threads=1 --repetitions=1 --ops=1000 --out=kept --force \
  >/dev/null 2>&1 || fail "--force did not overwrite"
head -1 kept/results.csv | grep -q '^benchmark,' || fail "--force wrote no CSV"

# Explicitly asking for a built-in allocator that is not there is an error too.
ALLOCBENCH_FIO_LIB=/nonexistent/libfio-malloc.so refuse "'fio' is not installed" $W --allocator=fio

# Help and listings succeed.
"$ALLOCBENCH" --help >help.txt || fail "--help failed"
for text in Examples --workload --allocator --threads --repetitions --ops --duration --size \
  --param --seed --format --out --timeout --list --list-allocators; do
  grep -qF -- "$text" help.txt || fail "--help does not mention $text"
done
echo "ok: $checked refusals"
