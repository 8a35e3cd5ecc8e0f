/*
 * config.h - the fio allocator's build configuration and the helpers every layer uses:
 * tunables, compiler attributes, assertions, fatal errors, sanitizer hooks, counters,
 * and the process-wide settings found at start-up (init.c).
 *
 * The layers, each header including only the one below it (lowest first):
 *   config.h -> os.h (the system) -> lock.h -> space.h (the address space the allocator
 *   mapped) -> block.h (one block's header and bitmaps) -> thread.h (per-thread state)
 *   -> pool.h (where blocks come from and go back to) -> mid.h (the middle tier) -> big.h
 *   (big allocations, and giving idle memory back when a mapping fails) -> internal.h (the
 *   public calls: alloc.c, free.c, aligned.c, stats.c, fork.c, init.c).
 * Each .c file includes the header of its layer. Nothing here may call the C library's
 * malloc: this code runs under an LD_PRELOAD shim where malloc *is* this code.
 */
#ifndef FIO_CONFIG_H
#define FIO_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fio/fio_malloc.h"

/* ------------------------------------------------------------------------------------
 * Tunables: declared in allocator/cmake/tunables.cmake (defaults, ranges, trade-offs),
 * which defines FIO_<NAME> for every file of the library; checked against each other here.
 * ---------------------------------------------------------------------------------- */

#if !defined(FIO_BLOCK_SIZE) || !defined(FIO_BIG_LIMIT) || !defined(FIO_POOL_CAP_BLOCKS) ||        \
    !defined(FIO_POOL_DECAY_MS) || !defined(FIO_POOL_MAX_BLOCKS) ||                                \
    !defined(FIO_THREAD_CACHE_BLOCKS) || !defined(FIO_OWNED_BLOCKS) ||                             \
    !defined(FIO_ARENA_COUNT) || !defined(FIO_BIG_CACHE_BYTES) || !defined(FIO_BIG_CACHE_SLOTS) || \
    !defined(FIO_ZERO_RUN_AFTER) || !defined(FIO_MID_MAX) || !defined(FIO_MID_IDLE_PERCENT) ||     \
    !defined(FIO_SPARSE_LIVE) || !defined(FIO_TUNABLES_TEXT)
#error "the fio allocator is built with the definitions of allocator/cmake/tunables.cmake"
#endif

/* Internal constants (what each trades is said where it is used). */

/* Of a thread's cached blocks, those other threads sliced (emptied by its frees) at most. */
#define FIO_THREAD_CACHE_FOREIGN 4
/* Owned blocks checked, oldest first, for other threads' frees when one more is owned. */
#define FIO_OWNED_CHECKS_PER_OWN 4
/* Slots of a thread's table of the blocks it owns, which lets a free into one skip the
 * classification (a block per slot, by address; 256 bytes of TLS). With 32, a free at
 * random among the ~39 blocks a thread owns in `random-lifetime` costs 60 instructions
 * instead of 82. */
#define FIO_OWNED_KNOWN 32
/* The smallest hole of a sparse block sliced again: each hole costs a search of the
 * block's bitmaps and a trip through the slow path, and a smaller one holds only a few
 * objects. */
#define FIO_SPARSE_MIN_HOLE 512
/* A sparse block is sliced again only when this many of its 1 KiB stretches hold no slice
 * still live: with fewer, random replacement pays for many short holes; with more, blocks
 * pinned by scattered survivors are left as they are. */
#define FIO_SPARSE_MIN_FREE_KIB 6
/* Idle resident bytes a middle-tier heap keeps for reuse: this many, plus
 * FIO_MID_IDLE_PERCENT of its live bytes; past that a freed run's pages go back. */
#define FIO_MID_IDLE_MIN (4u << 20)
/* Freed middle-tier runs a thread keeps for its next request of the same length (no lock,
 * no search), and the longest run it keeps (a 1 MiB buffer with its header): at most
 * about 4 MiB idle per thread, and only while its requests keep one length. */
#define FIO_MID_CACHE_SLOTS 4
#define FIO_MID_CACHE_RUN_MAX ((1u << 20) + FIO_BLOCK_SIZE)
/* Bytes of one middle-tier chunk (aligned to its size). */
#define FIO_MID_CHUNK_SIZE (32u << 20)
/* Bytes mapped from the system at once to carve blocks from. */
#define FIO_CHUNK_SIZE (4u << 20)
/* 1: full invalid/double-free detection (a registry of mappings, a live bitmap). */
#ifndef FIO_CHECKING
#define FIO_CHECKING 0
#endif
/* 1: internal invariant checks (fio_assert_internal); 2: also the expensive ones. */
#ifndef FIO_DEBUG
#define FIO_DEBUG 0
#endif

#define FIO_ARENA_MAX 64
#define FIO_SLICE 16 /* allocation unit and alignment */

_Static_assert((FIO_BLOCK_SIZE & (FIO_BLOCK_SIZE - 1)) == 0, "FIO_BLOCK_SIZE: power of two");
_Static_assert(FIO_BLOCK_SIZE >= 8192 && FIO_BLOCK_SIZE <= (1 << 24),
               "FIO_BLOCK_SIZE: 8 KiB .. 16 MiB");
_Static_assert(FIO_CHUNK_SIZE % FIO_BLOCK_SIZE == 0, "FIO_CHUNK_SIZE: whole blocks");
_Static_assert((FIO_OWNED_KNOWN & (FIO_OWNED_KNOWN - 1)) == 0, "FIO_OWNED_KNOWN: power of two");
_Static_assert(FIO_THREAD_CACHE_BLOCKS >= 0 && FIO_POOL_CAP_BLOCKS >= 0 && FIO_OWNED_BLOCKS >= 0,
               "caps: >= 0");
_Static_assert(FIO_POOL_MAX_BLOCKS >= FIO_POOL_CAP_BLOCKS, "FIO_POOL_MAX_BLOCKS: >= the cap");
_Static_assert(FIO_POOL_DECAY_MS >= 0, "FIO_POOL_DECAY_MS: >= 0 (0: no delay)");
_Static_assert(FIO_BIG_CACHE_SLOTS >= 0 && FIO_BIG_CACHE_SLOTS <= 256, "big cache: 0..256 slots");
_Static_assert(FIO_ARENA_COUNT >= 0 && FIO_ARENA_COUNT <= FIO_ARENA_MAX, "arenas: 0..64");
_Static_assert(FIO_ZERO_RUN_AFTER >= 0, "FIO_ZERO_RUN_AFTER: >= 0");
_Static_assert(FIO_MID_MAX == 0 || (FIO_MID_CHUNK_SIZE / FIO_BLOCK_SIZE >= 16 &&
                                    FIO_MID_MAX + 64 + FIO_BLOCK_SIZE <= FIO_MID_CHUNK_SIZE),
               "FIO_MID_MAX: 0, or a request and its header fit a chunk of 16 blocks or more");
_Static_assert(FIO_MID_IDLE_PERCENT >= 0, "FIO_MID_IDLE_PERCENT: >= 0");

/* ------------------------------------------------------------------------------------
 * Compiler helpers and assertions
 * ---------------------------------------------------------------------------------- */

#define fio_likely(x) __builtin_expect(!!(x), 1)
#define fio_unlikely(x) __builtin_expect(!!(x), 0)
#define FIO_INTERNAL __attribute__((visibility("hidden")))
#define FIO_NOINLINE __attribute__((noinline))
#define FIO_COLD __attribute__((cold, noinline))
#define FIO_INLINE static inline __attribute__((always_inline))
#define FIO_TLS __thread __attribute__((tls_model("initial-exec")))
/* The hot entry points start on a cache line: their speed then does not move with the size
 * of unrelated code placed before them (the free half of a group varied by 10% with it). */
#define FIO_HOT_ENTRY __attribute__((aligned(64)))

/** Reports a broken invariant or a bad pointer on stderr and aborts (never allocates). */
FIO_INTERNAL _Noreturn void fio_fatal(const char *what, const void *ptr);
/** The same, naming the public call that found the problem ("fio_free: ..."). */
FIO_INTERNAL _Noreturn void fio_fatal_op(const char *op, const char *what, const void *ptr);

/* fio_assert: cheap, always on (guards the public contract).
 * fio_assert_internal: internal invariants, on when FIO_DEBUG >= 1.
 * fio_assert_expensive: walks whole structures, on when FIO_DEBUG >= 2. */
#define fio_assert(cond) \
  (fio_likely(cond) ? (void)0 : fio_fatal("assertion failed: " #cond " at " __FILE__, NULL))
#if FIO_DEBUG >= 1
#define fio_assert_internal(cond) fio_assert(cond)
#else
#define fio_assert_internal(cond) ((void)0)
#endif
#if FIO_DEBUG >= 2
#define fio_assert_expensive(cond) fio_assert(cond)
#else
#define fio_assert_expensive(cond) ((void)0)
#endif

/* AddressSanitizer: freed slices and unsliced block space are poisoned. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define FIO_ASAN 1
#define fio_asan_poison(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define fio_asan_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FIO_ASAN 0
#define fio_asan_poison(p, n) ((void)(p), (void)(n))
#define fio_asan_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* Counters written by one thread only: a relaxed load and store, never a locked RMW.
 * Readers on other threads see a recent value (snapshots are approximate while busy). */
typedef _Atomic uint64_t fio_counter_t;
FIO_INLINE void fio_counter_add(fio_counter_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}
FIO_INLINE uint64_t fio_counter_get(fio_counter_t *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

/** Zeroes `n` bytes at 16-byte aligned `p` (`n` a multiple of 16): small sizes inline with
 *  vector stores (a call to memset costs more than the stores), large ones with memset.
 *  The build keeps the loop a loop (-fno-tree-loop-distribute-patterns). */
FIO_INLINE void fio_zero(void *p, size_t n) {
  typedef char fio_v16 __attribute__((vector_size(16), aligned(16)));
  if (n <= 256) {
    fio_v16 *q = (fio_v16 *)p;
    for (size_t k = 0; k < n / 16; ++k) q[k] = (fio_v16){0};
  } else {
    memset(p, 0, n);
  }
}

/* ------------------------------------------------------------------------------------
 * Process-wide settings (init.c)
 * ---------------------------------------------------------------------------------- */

typedef struct fio_global_s {
  _Atomic int ready;
  uint32_t arena_count;
  size_t page_size;
} fio_global_t;
extern FIO_INTERNAL fio_global_t fio_global;

/** Lazy, idempotent process-wide initialisation (safe on the very first malloc). */
FIO_INTERNAL void fio_init_slow(void);
FIO_INLINE void fio_init(void) {
  if (fio_unlikely(!atomic_load_explicit(&fio_global.ready, memory_order_acquire))) fio_init_slow();
}

#endif /* FIO_CONFIG_H */
