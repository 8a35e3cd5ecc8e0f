/*
 * internal.h - the fio allocator's types, tunables, assertions and internal interfaces.
 *
 * Layers, lowest first: os.h (the system) -> block.c (one block's header and bitmaps)
 * -> pool.c (where blocks come from and go back to) -> thread.c (per-thread state)
 * -> alloc.c / free.c / big.c / aligned.c (the public calls) -> stats.c, fork.c, init.c.
 *
 * Nothing here may call the C library's malloc: this code runs under an LD_PRELOAD shim
 * where malloc *is* this code.
 */
#ifndef FIO_INTERNAL_H
#define FIO_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fio/fio_malloc.h"
#include "os.h"

/* ------------------------------------------------------------------------------------
 * Tunables (set by the build; see DESIGN.md for the trade-offs)
 * ---------------------------------------------------------------------------------- */

/** Bytes per small-object block; a power of two, aligned to itself. */
#ifndef FIO_BLOCK_SIZE
#define FIO_BLOCK_SIZE 32768
#endif
/** Requests above this many bytes are mapped from the system directly. */
#ifndef FIO_BIG_LIMIT
#define FIO_BIG_LIMIT (FIO_BLOCK_SIZE / 2)
#endif
/** Recycled blocks each shared pool shard keeps for good. Blocks past this cap go back to
 *  the system once they have sat unused in the shard for FIO_POOL_DECAY_MS, and at once
 *  past FIO_POOL_MAX_BLOCKS. */
#ifndef FIO_POOL_CAP_BLOCKS
#define FIO_POOL_CAP_BLOCKS 128
#endif
#ifndef FIO_POOL_DECAY_MS
#define FIO_POOL_DECAY_MS 1000
#endif
#ifndef FIO_POOL_MAX_BLOCKS
#define FIO_POOL_MAX_BLOCKS (32 * FIO_POOL_CAP_BLOCKS)
#endif
/** Recycled blocks a thread keeps for itself before handing them to the shared pool. */
#ifndef FIO_THREAD_CACHE_BLOCKS
#define FIO_THREAD_CACHE_BLOCKS 64
#endif
/* Of them, blocks other threads sliced (emptied by this thread's frees) at most. */
#ifndef FIO_THREAD_CACHE_FOREIGN
#define FIO_THREAD_CACHE_FOREIGN 4
#endif
/** Retired blocks a thread may own: the thread that sliced a block and frees into it
 *  counts its own frees there without atomics. At most this many per thread (past it the
 *  oldest goes back to the shared count). 0: none. */
#ifndef FIO_OWNED_BLOCKS
#define FIO_OWNED_BLOCKS 64
#endif
/* Owned blocks checked, oldest first, for other threads' frees when one more is owned. */
#define FIO_OWNED_CHECKS_PER_OWN 4
/** An owned block whose owner's count of live objects falls to this many is sparse: the
 *  owner slices its free holes again before it takes another block (0: never). */
#ifndef FIO_SPARSE_LIVE
#define FIO_SPARSE_LIVE 16
#endif
/* Sparse blocks a thread remembers at most. */
#define FIO_SPARSE_SLOTS 32
/* The smallest hole of a sparse block sliced again: each hole costs a search of the
 * block's bitmaps, and a smaller one holds only a few objects (against taking every
 * hole: larson +7% throughput, long-lived +9% peak RSS, one thread). */
#define FIO_SPARSE_MIN_HOLE 1024
/** Freed big mappings kept for reuse: at most this many, this many bytes in all. */
#ifndef FIO_BIG_CACHE_SLOTS
#define FIO_BIG_CACHE_SLOTS 16
#endif
#ifndef FIO_BIG_CACHE_BYTES
#define FIO_BIG_CACHE_BYTES (32u << 20)
#endif
/** Requests above the big limit up to this many bytes are served from runs of whole
 *  blocks in large chunks (the middle tier, mid.c) instead of a mapping of their own;
 *  0: none. */
#ifndef FIO_MID_MAX
#if FIO_BLOCK_SIZE <= (1 << 20)
#define FIO_MID_MAX (4u << 20)
#else
#define FIO_MID_MAX 0
#endif
#endif
/** Idle resident bytes a middle-tier heap keeps for reuse: this many, plus this percentage
 *  of its live bytes; past that a freed run's pages go back to the system. */
#ifndef FIO_MID_IDLE_MIN
#define FIO_MID_IDLE_MIN (4u << 20)
#endif
#ifndef FIO_MID_IDLE_PERCENT
#define FIO_MID_IDLE_PERCENT 400
#endif
/* Freed middle-tier runs a thread keeps for its next request of the same length (no lock,
 * no search), and the longest run it keeps: at most 4 x 256 KiB idle per thread. */
#define FIO_MID_CACHE_SLOTS 4
#define FIO_MID_CACHE_RUN_MAX (256u << 10)
/** Bytes of one middle-tier chunk (aligned to its size). */
#define FIO_MID_CHUNK_SIZE (32u << 20)
/** Shared pool shards ("arenas"); 0 means one per CPU the process may run on. */
#ifndef FIO_ARENA_COUNT
#define FIO_ARENA_COUNT 0
#endif
/** Bytes mapped from the system at once to carve blocks from. */
#ifndef FIO_CHUNK_SIZE
#define FIO_CHUNK_SIZE (4u << 20)
#endif
/** Zero-asking allocations (fio_malloc, calloc) that find old bytes in their thread's
 *  block zero them object by object this many times; the next one zeroes everything old
 *  that is left in the block in one run. 0: always in one run. */
#ifndef FIO_ZERO_RUN_AFTER
#define FIO_ZERO_RUN_AFTER 2
#endif
/** 1: full invalid/double-free detection (a registry of mappings, a live bitmap). */
#ifndef FIO_CHECKING
#define FIO_CHECKING 0
#endif
/** 1: internal invariant checks (fio_assert_internal); 2: also the expensive ones. */
#ifndef FIO_DEBUG
#define FIO_DEBUG 0
#endif

#define FIO_ARENA_MAX 64
#define FIO_SLICE 16 /* allocation unit and alignment */

_Static_assert((FIO_BLOCK_SIZE & (FIO_BLOCK_SIZE - 1)) == 0, "FIO_BLOCK_SIZE: power of two");
_Static_assert(FIO_BLOCK_SIZE >= 8192 && FIO_BLOCK_SIZE <= (1 << 24),
               "FIO_BLOCK_SIZE: 8 KiB .. 16 MiB");
_Static_assert(FIO_CHUNK_SIZE % FIO_BLOCK_SIZE == 0, "FIO_CHUNK_SIZE: whole blocks");
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
 * Blocks (block.c)
 * ---------------------------------------------------------------------------------- */

#define FIO_BITMAP_BITS (FIO_BLOCK_SIZE / FIO_SLICE)
/* One spare word so the end mark of a slice that ends at the block's end has a bit. */
#define FIO_BITMAP_WORDS (FIO_BITMAP_BITS / 64 + 1)

/* A block's reference count while a thread slices it: a bias no real count reaches, so
 * frees by other threads can subtract without ever reaching zero; the owner adds its own
 * count minus the bias once, when it retires the block. A retired block its slicer takes
 * back (`owner`) holds the bias again until the owner gives it up. */
#define FIO_BLOCK_BIAS ((int64_t)1 << 48)
/* A block no thread owns (thread ids start at 1; a thread not yet registered has id 0). */
#define FIO_NO_OWNER UINT64_MAX

/**
 * The header at the start of every small-object block. Slices start after it, so no
 * object pointer has offset 0 in its block (offset 0 means a block-aligned big one).
 *
 * `starts` has one bit per 16 bytes: the bit of a slice's first byte and the bit just
 * past its last byte are set, so an object's usable size is the distance to the next
 * set bit. Only the slicing thread writes it (relaxed atomic stores, no RMW).
 */
typedef struct fio_block_s {
  uint64_t magic;             /* FIO_MAGIC_SMALL or FIO_MAGIC_POOLED, mixed with the address */
  struct fio_block_s *next;   /* link in a thread cache, to the older block in a shard or in
                                 its owner's list of owned blocks */
  uint32_t dirty_to;          /* every byte at or past it reads zero; 0: fresh from the
                                 system (all of it zero, the bitmap too) */
  uint32_t arena;             /* shard it was carved by (statistics, debugging) */
  struct fio_block_s *prev;   /* link to the newer block in a shard or owned list */
  uint64_t pooled_ms;         /* when it entered its shard (fio_os_now_ms) */
  _Atomic uint64_t owner;     /* id of the thread that counts its frees here (FIO_NO_OWNER) */
  int64_t owner_live;         /* while owned: objects sliced minus the owner's frees */
  _Atomic uint64_t sliced_by; /* id of the thread that retired it, which may own it */
  _Atomic int64_t refs;       /* live objects (+ bias while sliced or owned); own cache line */
  uint32_t sparse;            /* listed among its owner's sparse blocks */
  uint32_t pad32;
  uint64_t pad[6];
  _Atomic uint64_t starts[FIO_BITMAP_WORDS];
  /* One bit per slice start that the owner freed after it took the block back (frees by
   * other threads, and the slicer's frees while it slices, are not recorded: those slices
   * are never sliced again before the block is recycled). Written by the owner only. */
  _Atomic uint64_t freed[FIO_BITMAP_WORDS];
#if FIO_CHECKING
  _Atomic uint64_t live[FIO_BITMAP_WORDS]; /* bit per live object start */
#endif
} fio_block_t;

_Static_assert(offsetof(fio_block_t, refs) == 64, "block header: the count on its own line");
#define FIO_BLOCK_HEADER ((sizeof(fio_block_t) + FIO_SLICE - 1) & ~(size_t)(FIO_SLICE - 1))
_Static_assert(FIO_BIG_LIMIT >= FIO_SLICE &&
                   FIO_BIG_LIMIT + 4096 + FIO_BLOCK_HEADER <= FIO_BLOCK_SIZE,
               "FIO_BIG_LIMIT: 16 B .. block size - header - 4 KiB");

#define FIO_MAGIC_SMALL 0x66696f536d616c6cULL  /* "fioSmall" */
#define FIO_MAGIC_POOLED 0x66696f506f6f6c64ULL /* "fioPoold" */
#define FIO_MAGIC_BIG 0x66696f4269676d6dULL    /* "fioBigmm" */
#define FIO_MAGIC_MID 0x66696f4d69644368ULL    /* "fioMidCh" */

/** The cookie a header of kind `magic` at `addr` carries: a stale copy elsewhere fails. */
FIO_INLINE uint64_t fio_cookie(uint64_t magic, const void *addr) {
  return magic ^ ((uintptr_t)addr >> 12);
}

FIO_INLINE fio_block_t *fio_block_of(const void *p) {
  return (fio_block_t *)((uintptr_t)p & ~(uintptr_t)(FIO_BLOCK_SIZE - 1));
}

FIO_INLINE void fio_bitmap_set(_Atomic uint64_t *map, size_t offset) {
  size_t i = offset / FIO_SLICE;
  _Atomic uint64_t *w = map + i / 64;
  atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) | (1ULL << (i % 64)),
                        memory_order_relaxed);
}
FIO_INLINE void fio_bitmap_clear(_Atomic uint64_t *map, size_t offset) {
  size_t i = offset / FIO_SLICE;
  _Atomic uint64_t *w = map + i / 64;
  atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) & ~(1ULL << (i % 64)),
                        memory_order_relaxed);
}
FIO_INLINE bool fio_bitmap_test(_Atomic uint64_t *map, size_t offset) {
  size_t i = offset / FIO_SLICE;
  return (atomic_load_explicit(map + i / 64, memory_order_relaxed) >> (i % 64)) & 1;
}

/** Offset of the first set bit strictly after `offset` (the end of the slice there). */
FIO_INLINE size_t fio_bitmap_next(_Atomic uint64_t *map, size_t offset) {
  size_t i = offset / FIO_SLICE;
  size_t wi = i / 64;
  uint64_t w = atomic_load_explicit(map + wi, memory_order_relaxed) & (~1ULL << (i % 64));
  while (!w) {
    if (fio_unlikely(++wi >= FIO_BITMAP_WORDS)) return FIO_BLOCK_SIZE;
    w = atomic_load_explicit(map + wi, memory_order_relaxed);
  }
  return (wi * 64 + (size_t)__builtin_ctzll(w)) * FIO_SLICE;
}

/** The end of a slice whose end mark is not in its first word: scans from word `wi`. */
FIO_INTERNAL size_t fio_bitmap_next_from(_Atomic uint64_t *map, size_t wi);

/** Usable bytes of the slice that starts at `offset` of `b`. */
FIO_INLINE size_t fio_block_slice_size(fio_block_t *b, size_t offset) {
  return fio_bitmap_next(b->starts, offset) - offset;
}

/** Prepares block `b` to be sliced by a thread: header, bias, empty bitmaps. */
FIO_INTERNAL void fio_block_open(fio_block_t *b);
/** Marks a block whose last object was freed as pooled (and checks it in checking builds). */
FIO_INTERNAL void fio_block_close(fio_block_t *b);
/** Clears the bitmap bits of [from, to) and poisons it: an emptied current block restarts. */
FIO_INTERNAL void fio_block_rewind(fio_block_t *b, size_t from, size_t to);
/** The end of the last slice of `b` (its bitmap's last mark); FIO_BLOCK_HEADER if none. */
FIO_INTERNAL size_t fio_block_used_end(fio_block_t *b);
/** The first hole of `b` at or after slice start `from` of at least `need` bytes: slices
 *  freed by the thread that sliced or owns `b` (its `freed` bits), up to the next slice
 *  that is not, or into the unsliced tail past `end` (the end of its last slice). */
FIO_INTERNAL bool fio_block_find_hole(fio_block_t *b, size_t from, size_t end, size_t need,
                                      size_t *at, size_t *to);
/** Makes [at, to) of `b` unsliced space again (its slices' marks go). */
FIO_INTERNAL void fio_block_open_hole(fio_block_t *b, size_t at, size_t to);
/** Walks a block's header and bitmaps and checks they are consistent (debug builds). */
FIO_INTERNAL bool fio_block_validate(fio_block_t *b, size_t bump);

/* ------------------------------------------------------------------------------------
 * The address space the allocator mapped (space.c)
 * ---------------------------------------------------------------------------------- */

/* One bit per block-sized granule of a 48-bit address space, in leaves of 2^18 bits. */
#define FIO_SPACE_GRANULE_SHIFT __builtin_ctz(FIO_BLOCK_SIZE)
#define FIO_SPACE_LEAF_SHIFT 18
#define FIO_SPACE_LEAF_BITS (1u << FIO_SPACE_LEAF_SHIFT)
#define FIO_SPACE_TOP (1u << (48 - FIO_SPACE_LEAF_SHIFT - FIO_SPACE_GRANULE_SHIFT))

typedef struct fio_space_leaf_s {
  _Atomic uint64_t bits[FIO_SPACE_LEAF_BITS / 64];
} fio_space_leaf_t;
extern FIO_INTERNAL _Atomic(fio_space_leaf_t *) fio_space_top[FIO_SPACE_TOP];

/** Records [base, base + len), a new mapping of the allocator (`base` block aligned, or
 *  a page before a block for a big allocation aligned to a block or more). */
FIO_INTERNAL void fio_space_add(const void *base, size_t len);
/** Forgets the mapping [base, base + len), unmapped whole. */
FIO_INTERNAL void fio_space_remove(const void *base, size_t len);
/** The mapping at `base` shrank from `old_len` to `new_len` bytes. */
FIO_INTERNAL void fio_space_trim(const void *base, size_t old_len, size_t new_len);

/** Whether `p` lies in a block-sized granule that a mapping of the allocator overlaps:
 *  false means the allocator never handed out `p`, and its header must not be read. */
FIO_INLINE bool fio_space_has(const void *p) {
  uintptr_t g = (uintptr_t)p >> FIO_SPACE_GRANULE_SHIFT;
  if (fio_unlikely(g >> FIO_SPACE_LEAF_SHIFT >= FIO_SPACE_TOP)) return false;
  fio_space_leaf_t *leaf =
      atomic_load_explicit(&fio_space_top[g >> FIO_SPACE_LEAF_SHIFT], memory_order_acquire);
  if (fio_unlikely(!leaf)) return false;
  uintptr_t i = g & (FIO_SPACE_LEAF_BITS - 1);
  return (atomic_load_explicit(&leaf->bits[i / 64], memory_order_relaxed) >> (i % 64)) & 1;
}

/* ------------------------------------------------------------------------------------
 * Locks (short critical sections only; never held across a system call that may block
 * for long, except the mmap of a new chunk)
 * ---------------------------------------------------------------------------------- */

/* 0: free, 1: held, 2: held, and threads may be asleep on it (the unlock wakes one). */
typedef struct fio_lock_s {
  _Atomic int locked;
} fio_lock_t;

FIO_INLINE bool fio_lock_try_raw(fio_lock_t *l) {
  int free_state = 0;
  return !atomic_load_explicit(&l->locked, memory_order_relaxed) &&
         atomic_compare_exchange_strong_explicit(&l->locked, &free_state, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}
/** Takes `l`; returns true when it had to wait (a contention event). A waiter spins
 *  briefly, then sleeps in the kernel until the holder lets go. */
FIO_INTERNAL bool fio_lock(fio_lock_t *l);
/** Takes `l` only if free now. */
FIO_INTERNAL bool fio_lock_try(fio_lock_t *l);
FIO_INTERNAL void fio_unlock(fio_lock_t *l);

/* ------------------------------------------------------------------------------------
 * Per-thread state (thread.c)
 * ---------------------------------------------------------------------------------- */

/** Counters of one thread, written only by it. Signed quantities wrap; sums are right. */
typedef struct fio_thread_stats_s {
  fio_counter_t allocations;
  fio_counter_t frees;
  fio_counter_t live_bytes;
  fio_counter_t blocks_opened;   /* blocks this thread started slicing */
  fio_counter_t blocks_recycled; /* blocks whose last reference this thread dropped */
  fio_counter_t blocks_released; /* blocks this thread gave back to the system */
  fio_counter_t big_allocations; /* live big allocations (+1 alloc, -1 free) */
  fio_counter_t big_bytes;
  fio_counter_t contention;
} fio_thread_stats_t;

/* EXITED: past the thread's exit destructor. glibc still frees from an exiting thread
 * after that (a detached thread trims the stack cache, freeing other threads' TLS
 * vectors): those frees must neither batch nor register the dying thread again. */
enum { FIO_THREAD_NONE = 0, FIO_THREAD_ACTIVE = 1, FIO_THREAD_EXITED = 2 };

typedef struct fio_thread_s {
  /* Hot: the malloc and free fast paths touch only these. */
  fio_block_t *cur;         /* block this thread slices; NULL when none */
  _Atomic uint32_t pos;     /* bump offset in `cur`; FIO_BLOCK_SIZE when there is no block */
  uint32_t limit;           /* end of the space being sliced: FIO_BLOCK_SIZE, or the end of a
                               hole of a sparse block */
  uint32_t dirty_to;        /* bytes of `cur` in [pos, dirty_to) may hold old data; every
                               byte at or past max(pos, dirty_to) reads zero */
  char *newest;             /* the newest slice of `cur`, still live; NULL when not known */
  fio_counter_t cur_sliced; /* objects sliced from `cur` since it was opened or rewound */
  int64_t cur_freed;        /* how many of them this thread freed */
  fio_block_t *pending;     /* block of the last free into a block this thread does not slice */
  int64_t pending_n;        /* frees into `pending` not yet subtracted from its count */
  uint64_t id;              /* unique per registration; marks the blocks this thread owns */
  uint32_t zero_asks;       /* zero-asking slices of `cur` that found old bytes */
  /* Not counted per call: a thread's allocations are `stats.allocations + cur_sliced`,
   * its live bytes `stats.live_bytes + pos` (see fio_thread_move_pos). */
  fio_thread_stats_t stats;
  /* Cold. */
  fio_block_t *owned;        /* retired blocks it owns, newest first (linked by next) */
  fio_block_t *owned_oldest; /* the list's tail (linked by prev) */
  uint32_t owned_n;
  fio_block_t *sparse[FIO_SPARSE_SLOTS]; /* owned blocks with few live objects */
  uint32_t sparse_n;
  uint32_t holes_end;            /* slicing the holes of a sparse block: where its slices
                                    ended when it was taken again (0: not) */
  struct {
    void *base;
    size_t len;
  } mid_cache[FIO_MID_CACHE_SLOTS]; /* freed middle-tier runs, still marked used (mid.c) */
  uint32_t mid_cache_n;
  fio_block_t *cache;            /* recycled blocks kept by this thread */
  _Atomic uint32_t cache_n;      /* written by the owner only; read by snapshots */
  uint32_t arena;                /* home shard of the shared pool */
  uint32_t state;                /* FIO_THREAD_NONE / _ACTIVE / _EXITED */
  struct fio_thread_s *reg_next; /* registry of live threads (stats, fork) */
  struct fio_thread_s *reg_prev;
} fio_thread_t;

extern FIO_TLS fio_thread_t fio_thread;

/* The bump position. Slicing moves it forward by the bytes handed out and the free of the
 * last slice moves it back by the bytes freed, so the thread's live bytes are its counter
 * plus `pos`, and the fast paths count no bytes. Only the owner writes it; a snapshot
 * reads it. */
FIO_INLINE size_t fio_thread_pos(fio_thread_t *t) {
  return atomic_load_explicit(&t->pos, memory_order_relaxed);
}
FIO_INLINE void fio_thread_set_pos(fio_thread_t *t, size_t pos) {
  atomic_store_explicit(&t->pos, (uint32_t)pos, memory_order_relaxed);
}
/** Moves the bump position without allocating or freeing (a block taken, retired or
 *  rewound; alignment padding): the counter takes the difference. */
FIO_INLINE void fio_thread_move_pos(fio_thread_t *t, size_t pos) {
  fio_counter_add(&t->stats.live_bytes, (uint64_t)fio_thread_pos(t) - pos);
  fio_thread_set_pos(t, pos);
}
/** Bytes of `cur` below `end` were handed out and may have been written: the bump position
 *  moves back over them (a freed last slice, a rewind, a retire). */
FIO_INLINE void fio_thread_mark_dirty(fio_thread_t *t, size_t end) {
  if (t->dirty_to < end) t->dirty_to = (uint32_t)end;
}
/** Objects `cur` holds that this thread has not freed. */
FIO_INLINE int64_t fio_thread_cur_live(fio_thread_t *t) {
  return (int64_t)fio_counter_get(&t->cur_sliced) - t->cur_freed;
}
/** `cur` starts over (a block taken, retired or rewound): its slices join the counter. */
FIO_INLINE void fio_thread_restart_cur(fio_thread_t *t) {
  fio_counter_add(&t->stats.allocations, fio_counter_get(&t->cur_sliced));
  atomic_store_explicit(&t->cur_sliced, 0, memory_order_relaxed);
  t->cur_freed = 0;
}

/** Creates the key whose destructor hands a thread's state back (process init). */
FIO_INTERNAL void fio_thread_key_init(void);
/** Registers the calling thread (first allocator call on it). */
FIO_INTERNAL void fio_thread_init(fio_thread_t *t);
/** Hands everything the thread holds back (thread exit; idempotent). */
FIO_INTERNAL void fio_thread_done(fio_thread_t *t);
/** Registry lock and the totals of threads that exited (stats.c reads them). */
FIO_INTERNAL void fio_registry_lock(void);
FIO_INTERNAL void fio_registry_unlock(void);
FIO_INTERNAL fio_thread_t *fio_registry_first(void);
FIO_INTERNAL fio_thread_stats_t *fio_registry_exited(void);
/** Thread `t`'s counts, the ones kept in its bump position and slice count included. */
FIO_INTERNAL void fio_thread_stats_read(fio_thread_t *t, fio_thread_stats_t *out);
/** Force the registry lock free (a child after fork; no other thread exists). */
FIO_INTERNAL void fio_registry_reset_lock(void);
/** In a fork child: forget every thread but the caller (their state is left behind). */
FIO_INTERNAL void fio_registry_after_fork(fio_thread_t *self);

/* ------------------------------------------------------------------------------------
 * Blocks' life cycle (pool.c)
 * ---------------------------------------------------------------------------------- */

/** Gives the thread a block to slice: one of its sparse blocks with a hole of at least
 *  `need` bytes (0: none of those), else from its cache, the shared pool, a chunk, the
 *  system. Returns false with errno = ENOMEM when the system has no memory. */
FIO_INTERNAL bool fio_pool_take(fio_thread_t *t, size_t need);
/** `cur` is a sparse block: the next hole of at least `n` bytes after the current one
 *  becomes the space being sliced. False when none is left (the caller retires it). */
FIO_INTERNAL bool fio_pool_next_hole(fio_thread_t *t, size_t n);
/** The owner's count of `b` fell to FIO_SPARSE_LIVE: remember it as sparse. */
FIO_INTERNAL void fio_pool_note_sparse(fio_thread_t *t, fio_block_t *b);
/** The thread stops slicing its block; recycles it when nothing in it lives. */
FIO_INTERNAL void fio_pool_retire(fio_thread_t *t);
/** A block's count reached zero: keep it in `t`'s cache (only if `t` sliced it), the shared
 *  pool or release it. */
FIO_INTERNAL void fio_pool_recycle(fio_thread_t *t, fio_block_t *b, bool sliced_here);
/** Subtracts the thread's batched frees from their block. */
FIO_INTERNAL void fio_pool_flush_pending(fio_thread_t *t);
/** The thread that retired `b` frees into it: it owns the block from now on. */
FIO_INTERNAL void fio_pool_own(fio_thread_t *t, fio_block_t *b);
/** The owner's count of block `b` fell to `left` <= FIO_SPARSE_LIVE: the block is sparse,
 *  or empty (fio_pool_owned_empty). */
FIO_INTERNAL void fio_pool_owned_low(fio_thread_t *t, fio_block_t *b, int64_t left);
/** The owner's count of block `b` fell to zero or below (its last object, or a double free). */
FIO_INTERNAL void fio_pool_owned_empty(fio_thread_t *t, fio_block_t *b);
/** Hands every block the thread owns over to the shared count (thread exit). */
FIO_INTERNAL void fio_pool_disown_all(fio_thread_t *t);
/** Moves the thread's cached blocks to the shared pool (thread exit). */
FIO_INTERNAL void fio_pool_drain_cache(fio_thread_t *t);
/** A mapping failed: gives the memory held idle back to the system, the cached big
 *  mappings and every block the shared pool holds, so that it may serve the retry (none
 *  of the pool's locks may be held). Returns true if any went back. */
FIO_INTERNAL bool fio_pool_release_idle(void);
/** Blocks in the shared pool (statistics). */
FIO_INTERNAL uint64_t fio_pool_count(void);
/** Locks of every shard, in a fixed order (fork). */
FIO_INTERNAL void fio_pool_lock_all(void);
FIO_INTERNAL void fio_pool_unlock_all(void);
/** Force every shard lock free (a child after fork). */
FIO_INTERNAL void fio_pool_reset_locks(void);

/** Bytes mapped from the system now (chunks and big allocations). */
extern FIO_INTERNAL _Atomic uint64_t fio_mapped_bytes;

/* ------------------------------------------------------------------------------------
 * Small and big allocations
 * ---------------------------------------------------------------------------------- */

/** The slow part of small allocation: get a block with room, then slice (zeroed if
 *  `zero`). */
FIO_INTERNAL void *fio_small_alloc_slow(fio_thread_t *t, size_t size, bool zero);
/** A small allocation aligned to `alignment` (> 16, small enough for a block). */
FIO_INTERNAL void *fio_small_alloc_aligned(size_t size, size_t alignment, bool zero);
/** Any allocation aligned to `alignment` (a power of two), zeroed if `zero`. */
FIO_INTERNAL void *fio_aligned_impl(size_t alignment, size_t size, bool zero);
/** Frees the slice at `p` of small block `b` (after the header check). */
FIO_INTERNAL void fio_small_free(fio_block_t *b, void *p);

/** Header of an allocation mapped directly. It sits at the start of the mapping when the
 *  user pointer is inside the first block, or just before a block-aligned user pointer. */
typedef struct fio_big_s {
  uint64_t magic; /* FIO_MAGIC_BIG mixed with the header's address */
  void *map_base; /* the mapping (a run: its first block), page aligned */
  size_t map_len;
  void *user; /* the pointer handed out */
  size_t alignment;
  uint64_t kind; /* FIO_BIG_MAPPING or FIO_BIG_RUN */
  uint64_t reserved[2];
} fio_big_t;
enum { FIO_BIG_MAPPING = 0, FIO_BIG_RUN = 1 }; /* a mapping of its own, a middle-tier run */
_Static_assert(sizeof(fio_big_t) == 64, "big header: 64 bytes");

/** Allocates `size` bytes above the small limit, aligned to `alignment` (>= 16): a
 *  middle-tier run when it fits one, else a mapping of its own. They read zero if `zero`
 *  (fresh pages always do; reused memory is zeroed only then). */
FIO_INTERNAL void *fio_big_alloc(size_t size, size_t alignment, bool zero);
/** The same, always a mapping of its own (fio_mmap: long-lived memory pins no chunk). */
FIO_INTERNAL void *fio_big_map(size_t size, size_t alignment, bool zero);
/** The big header of `p`, or NULL if `p` is not a big allocation's pointer. */
FIO_INTERNAL fio_big_t *fio_big_header(const void *p);
FIO_INTERNAL size_t fio_big_usable(const fio_big_t *h);
FIO_INTERNAL void fio_big_free(fio_big_t *h);
/** Resizes in place or moves keeping the classification; NULL (ENOMEM) on failure. With
 *  `zero`, every byte past the first `copy` reads zero. */
FIO_INTERNAL void *fio_big_realloc(fio_big_t *h, size_t new_size, size_t copy, bool zero);
/** Unmaps every cached big mapping; true if there was any. Called when a map fails, so
 *  that address space held for reuse serves the request instead (lock order: a pool
 *  shard's lock may be held, never the other way round). */
FIO_INTERNAL bool fio_big_cache_flush(void);
/* The middle tier (mid.c). Lengths are whole blocks; a run's first block is block aligned. */
/** A run of `len` bytes from the calling thread's heap; `*old`: some of it may hold old
 *  bytes (else it reads zero). NULL when no chunk could be mapped. */
FIO_INTERNAL void *fio_mid_take(size_t len, bool *old);
/** Gives the run [base, base + len) back to the heap of its chunk. */
FIO_INTERNAL void fio_mid_give(void *base, size_t len);
/** Resizes a run in place to `new_len`: a shrink always succeeds; a growth only when the
 *  blocks after it are in no run (`*old`: the added ones may hold old bytes). */
FIO_INTERNAL bool fio_mid_resize(void *base, size_t len, size_t new_len, bool *old);
/** Unmaps every chunk that holds no run (a mapping failed); true if any went back. */
FIO_INTERNAL bool fio_mid_release_idle(void);
/** Gives the runs thread `t` keeps back to their heaps (its exit, a failed mapping). */
FIO_INTERNAL void fio_mid_cache_flush(fio_thread_t *t);
/** The heaps' locks (fork). */
FIO_INTERNAL void fio_mid_lock_all(void);
FIO_INTERNAL void fio_mid_unlock_all(void);
FIO_INTERNAL void fio_mid_reset_locks(void);

/** The lock of the cache of freed big mappings (fork). */
FIO_INTERNAL void fio_big_cache_lock(void);
FIO_INTERNAL void fio_big_cache_unlock(void);
FIO_INTERNAL void fio_big_cache_reset_lock(void);

/* ------------------------------------------------------------------------------------
 * Initialisation, fork, checking
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

/** The thread that holds every lock in a fork's prepare handler (its own calls skip them). */
extern FIO_INTERNAL _Atomic(fio_thread_t *) fio_fork_holder;

#if FIO_CHECKING
/** Registry of the allocator's mappings: small blocks by base, big ones by user pointer. */
FIO_INTERNAL void fio_check_add(const void *key);
FIO_INTERNAL void fio_check_remove(const void *key);
FIO_INTERNAL bool fio_check_has(const void *key);
FIO_INTERNAL void fio_check_lock(void);
FIO_INTERNAL void fio_check_unlock(void);
FIO_INTERNAL void fio_check_reset_lock(void);
#endif

/** Registers the fork handlers (process init). */
FIO_INTERNAL void fio_fork_register(void);

/** Fails with a clear message if `p` is not a live pointer of this allocator (checking
 *  builds do a full check, normal builds the cheap header check). Returns the block of a
 *  small object, or NULL and `*big` for a big one. */
FIO_INTERNAL fio_block_t *fio_classify(const void *p, fio_big_t **big, const char *op);

/** Bytes a small request occupies: rounded up to 16, and 16 for a request of 0. */
FIO_INLINE size_t fio_small_round(size_t size) {
  return (size + (FIO_SLICE - 1) + (size == 0)) & ~(size_t)(FIO_SLICE - 1);
}

#endif /* FIO_INTERNAL_H */
