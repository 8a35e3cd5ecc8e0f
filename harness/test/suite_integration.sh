#!/usr/bin/env bash
# Every registered workload with every installed allocator at 1 and 2 threads, tiny scale:
# valid ok rows, proven allocators, CSV and JSON that agree.
source "$(dirname "$0")/lib.sh"

workloads=$(listed_names "$ALLOCBENCH" --list workloads)
for w in group-free alloc-free random-lifetime producer-consumer larson realloc-grow; do
  case ",$workloads," in *",$w,"*) ;; *) fail "--list does not show $w ($workloads)" ;; esac
done
case ",$workloads," in *",test-"*) fail "--list shows a test-only workload: $workloads" ;; esac
case ",$(listed_names "$ALLOCBENCH_TESTING" --list workloads)," in
  *,test-crash,*) ;;
  *) fail "the test runner lacks test-crash" ;;
esac

allocators=$(installed_allocators)
case ",$allocators," in
  *,fio,*) ;;
  *) echo "SKIP fio: libfio-malloc.so is not built (build allocator/ or set ALLOCBENCH_FIO_LIB)" ;;
esac
echo "workloads: $workloads"
echo "allocators: $allocators"

# `large` moves megabytes per operation: it gets a smaller scale of its own.
small=$(echo "$workloads" | tr ',' '\n' | grep -vx large | paste -sd, -)
rc=0
"$ALLOCBENCH" --workload="$small" --allocator="$allocators" --threads=1,2 --repetitions=1 \
  --ops=10k --timeout=60 --out=suite >table.txt 2>progress.txt || rc=$?
[ "$rc" -eq 0 ] || { cat progress.txt; fail "exit status $rc"; }
$VALIDATE suite --all-ok --combinations "$small" "$allocators" 1,2 || fail "invalid results"
for a in ${allocators//,/ }; do
  grep -q "^alloc-free  *1 $a " table.txt || fail "no table row for alloc-free $a"
done
"$ALLOCBENCH" --workload=large --allocator="$allocators" --threads=1,2 --repetitions=1 \
  --ops=100 --timeout=60 --out=suite-large >>table.txt 2>>progress.txt || rc=$?
[ "$rc" -eq 0 ] || { cat progress.txt; fail "exit status $rc (large)"; }
$VALIDATE suite-large --all-ok --combinations large "$allocators" 1,2 || fail "invalid results (large)"
grep -q '^\[1/' progress.txt || fail "no progress lines"
echo "ok"
