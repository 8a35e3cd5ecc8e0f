#!/usr/bin/env bash
# library_check.sh - what libfio-malloc.so is as a file, and what it says when asked.
#
#   - exports every entry point it must override, and nothing but those and the fio API;
#   - needs no C++ runtime (C programs run under it without loading libstdc++);
#   - keeps its thread-local state in the initial-exec model (no __tls_get_addr call on
#     the allocation path; the library is marked STATIC_TLS when it has any);
#   - FIO_MALLOC_VERBOSE=1 announces it, FIO_MALLOC_STATS=1 reports at exit, a malformed
#     value is reported and ignored, FIO_MALLOC_STATS=0 keeps it silent.
#
#   library_check.sh SHIM
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1"

required=(malloc free cfree calloc realloc reallocarray posix_memalign aligned_alloc memalign
  valloc pvalloc malloc_usable_size __libc_malloc __libc_free __libc_calloc __libc_realloc
  __libc_reallocarray __libc_memalign __libc_valloc __libc_pvalloc
  _Znwm _Znam _ZnwmRKSt9nothrow_t _ZnamRKSt9nothrow_t _ZnwmSt11align_val_t _ZnamSt11align_val_t
  _ZnwmSt11align_val_tRKSt9nothrow_t _ZnamSt11align_val_tRKSt9nothrow_t
  _ZdlPv _ZdaPv _ZdlPvRKSt9nothrow_t _ZdaPvRKSt9nothrow_t _ZdlPvm _ZdaPvm
  _ZdlPvSt11align_val_t _ZdaPvSt11align_val_t _ZdlPvSt11align_val_tRKSt9nothrow_t
  _ZdaPvSt11align_val_tRKSt9nothrow_t _ZdlPvmSt11align_val_t _ZdaPvmSt11align_val_t
  fio_malloc fio_free fio_malloc_stats fio_malloc_stats_print fio_malloc_version)

nm -D --defined-only "$SHIM" | awk '$2 ~ /^[TtWwiV]$/ { print $3 }' | sort > "$WORK/exported"
for symbol in "${required[@]}"; do
  grep -qx "$symbol" "$WORK/exported" || shim_fail "$symbol is not exported"
done
unexpected=$(grep -v -x -F -f <(printf '%s\n' "${required[@]}") "$WORK/exported" | grep -v '^fio_' || true)
[ -z "$unexpected" ] || shim_fail "exports beyond the entry points and the fio API: $unexpected"

needed=$(readelf -d "$SHIM" | awk '/\(NEEDED\)/ { print $NF }')
if grep -Eq 'libstdc\+\+|libc\+\+|libgcc_s' <<< "$needed"; then
  shim_fail "the shim depends on a C++ runtime: $needed"
fi

if nm -D --undefined-only "$SHIM" | grep -q '__tls_get_addr'; then
  shim_fail "the shim calls __tls_get_addr: thread-local state is not initial-exec"
fi
if readelf -lW "$SHIM" | grep -q '^ *TLS '; then
  readelf -d "$SHIM" | grep -q 'STATIC_TLS' || shim_fail "the shim has TLS but no STATIC_TLS flag"
fi

# What the user sees.
LD_PRELOAD="$SHIM" FIO_MALLOC_VERBOSE=1 /bin/true 2> "$WORK/verbose.out"
grep -q '^fio-malloc: .* serving pid [0-9]* (true)$' "$WORK/verbose.out" ||
  shim_fail "FIO_MALLOC_VERBOSE=1 does not announce the shim"
grep -q '^fio-malloc: statistics of pid [0-9]* (true) at exit$' "$WORK/verbose.out" ||
  shim_fail "FIO_MALLOC_VERBOSE=1 does not print the statistics at exit"
LD_PRELOAD="$SHIM" FIO_MALLOC_STATS=1 /bin/true 2> "$WORK/stats.out"
grep -q '^fio-malloc: statistics of pid [0-9]* (true) at exit$' "$WORK/stats.out" ||
  shim_fail "FIO_MALLOC_STATS=1 prints no statistics"
[ "$(wc -l < "$WORK/stats.out")" -gt 3 ] || shim_fail "FIO_MALLOC_STATS=1 prints no counters"
LD_PRELOAD="$SHIM" FIO_MALLOC_STATS=yes /bin/true 2> "$WORK/bad.out"
grep -q "^fio-malloc: ignoring FIO_MALLOC_STATS='yes' (accepted: 0 or 1)$" "$WORK/bad.out" ||
  shim_fail "a malformed FIO_MALLOC_STATS is not reported"
LD_PRELOAD="$SHIM" FIO_MALLOC_STATS=0 /bin/true 2> "$WORK/quiet.out"
[ ! -s "$WORK/quiet.out" ] || shim_fail "FIO_MALLOC_STATS=0 is not silent"
echo "libfio-malloc.so: ${#required[@]} required symbols exported, no C++ runtime needed, initial-exec TLS, reports as documented"
