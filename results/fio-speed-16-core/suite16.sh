#!/usr/bin/env bash
# The runs of this directory on the 16-core machine: every allocator by the same command,
# each run in its own process, from a bundle made by harness/bundle.sh (with the shim of the
# revision compared against copied to BUNDLE/lib/libfio-before.so).
#   suite16.sh BUNDLE OUT PHASE    PHASE: final (main/, zeroed/, suite/, micro-1-thread.txt),
#                                  confirm (confirm/), first (a shorter look, not kept)
# Writes OUT/results.tar.gz (r/<part>/results.{csv,json}, logs, machine.txt).
set -u
B=$(cd "$1" && pwd); OUT=$2; PHASE=$3
export LD_LIBRARY_PATH=$B/lib
E=$B/bin/allocbench
R=/tmp/suite16/r; rm -rf /tmp/suite16; mkdir -p "$R"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "host: $(uname -n), kernel $(uname -r)"
  echo "cpus online: $(nproc)"; grep -m1 'model name' /proc/cpuinfo
  echo "revision: $(cat "$B/REVISION")"; echo "phase: $PHASE"
} >"$R/machine.txt"
lscpu >"$R/lscpu.txt" 2>&1
echo "transparent hugepages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)" >>"$R/machine.txt"
ALLOC=glibc,fio,mimalloc,tcmalloc,jemalloc
[ -f "$B/lib/libfio-before.so" ] && ALLOC=$ALLOC,fio-before=$B/lib/libfio-before.so
run() { local name=$1; shift; local t0=$SECONDS
  timeout 400 "$E" --allocator=$ALLOC "$@" --out="$R/$name" --force >"$R/$name.log" 2>&1
  echo "$name: status $? in $((SECONDS - t0)) s" | tee -a "$R/machine.txt"; }
if [ "$PHASE" = confirm ]; then
  run gf --workload=group-free,alloc-free,larson --threads=1,4,16,32 --ops=6000000 --repetitions=3
  tar -C /tmp/suite16 -czf "$OUT/gf.tar.gz" r
  run rest --workload=phased,producer-consumer,large --threads=1,16,32 --duration=150ms --timeout=20s --repetitions=3
elif [ "$PHASE" = first ]; then
  run gf --workload=group-free,alloc-free,larson --threads=1,4,16,32 --ops=6000000 --repetitions=3
  run rest --workload=random-lifetime,producer-consumer,long-lived,phased,locality,large,false-sharing,realloc-grow,trace-replay \
    --threads=1,2,16,32 --duration=150ms --timeout=20s --repetitions=3
else
  run gf --workload=group-free,alloc-free,larson --threads=1,2,4,8,16,32 --ops=6000000 --repetitions=5
  run zeroed --workload=group-free --param zeroed=1 --threads=1,2,4,8,16,32 --ops=6000000 --repetitions=5
  run rest --workload=random-lifetime,producer-consumer,long-lived,phased,locality,large,false-sharing,realloc-grow,trace-replay \
    --threads=1,2,16,32 --duration=150ms --timeout=20s --repetitions=3
  t0=$SECONDS
  COMPARE_CPUS=$(($(nproc) - 1)) timeout 120 "$B/compare.sh" "$B" 3 'pair/malloc/(16|256|4096|65536)$|(group|group_touch|group_zeroed)/malloc/threads:1$' >"$R/micro-1-thread.txt" 2>&1
  echo "micro: status $? in $((SECONDS - t0)) s" | tee -a "$R/machine.txt"
fi
tar -C /tmp/suite16 -czf "$OUT/results.tar.gz" r
cp "$R/machine.txt" "$OUT/machine.txt"
