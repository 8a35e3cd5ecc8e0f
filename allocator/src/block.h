/*
 * block.h - one small-object block: its header, its bitmaps, its consistency check
 * (block.c).
 */
#ifndef FIO_BLOCK_H
#define FIO_BLOCK_H

#include "space.h"

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

/* A block's place in a doubly linked list of blocks (pool.c: fio_list_*). */
typedef struct fio_block_links_s {
  struct fio_block_s *next; /* toward the oldest block of the list */
  struct fio_block_s *prev; /* toward the newest */
} fio_block_links_t;

/**
 * The header at the start of every small-object block. Slices start after it, so no
 * object pointer has offset 0 in its block (offset 0 means a block-aligned big one).
 *
 * `starts` has one bit per 16 bytes: the bit of a slice's first byte and the bit just
 * past its last byte are set, so an object's usable size is the distance to the next
 * set bit. Only the slicing thread writes it (relaxed atomic stores, no RMW).
 */
typedef struct fio_block_s {
  uint64_t magic;                /* FIO_MAGIC_SMALL or FIO_MAGIC_POOLED, mixed with the address */
  fio_block_links_t link;        /* in a shard or in its owner's list of owned blocks; `next`
                                    alone in a thread cache */
  uint32_t dirty_to;             /* every byte at or past it reads zero; 0: fresh from the
                                    system (all of it zero, the bitmap too) */
  uint32_t arena;                /* shard it was carved by (statistics, debugging) */
  int64_t low_mark;              /* while owned: the owner's count at which its holes are
                                    looked at (fio_pool_owned_low); 0: only when empty */
  _Atomic uint64_t owner;        /* id of the thread that counts its frees here (FIO_NO_OWNER) */
  int64_t owner_live;            /* while owned: objects sliced minus the owner's frees */
  _Atomic uint64_t sliced_by;    /* id of the thread that retired it, which may own it */
  _Atomic int64_t refs;          /* live objects (+ bias while sliced or owned); own cache line */
  uint64_t pooled_ms;            /* when it entered its shard (fio_os_now_ms) */
  fio_block_links_t sparse_link; /* in its owner's list of sparse blocks */
  uint32_t sparse;               /* on that list */
  uint32_t pad32;
  uint64_t pad[3];
  _Atomic uint64_t starts[FIO_BITMAP_WORDS];
  /* One bit per slice start freed by the thread that slices the block or owns it (frees by
   * other threads are not recorded, nor the free of the last slice, whose bytes go back to
   * the bump position): the holes of a sparse block, and a second free of such a slice,
   * found by its bit. Written by that thread only; cleared where slices are made again. */
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
/** Whether `kib` of `b`'s 1 KiB stretches (a bitmap word each) hold no start of a kept
 *  slice: a cheap measure of the room in its holes (a slice that starts before a stretch
 *  may reach into it; the search for a hole finds out). */
FIO_INTERNAL bool fio_block_has_free_kib(fio_block_t *b, size_t kib);
/** Makes [at, to) of `b` unsliced space again (its slices' marks go). */
FIO_INTERNAL void fio_block_open_hole(fio_block_t *b, size_t at, size_t to);
/** Walks a block's header and bitmaps and checks they are consistent (debug builds). */
FIO_INTERNAL bool fio_block_validate(fio_block_t *b, size_t bump);

#endif /* FIO_BLOCK_H */
