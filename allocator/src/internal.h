/*
 * internal.h - the top layer's internal interfaces (alloc.c, free.c, aligned.c, stats.c,
 * fork.c, init.c), and the umbrella of every layer below (see config.h for the order).
 */
#ifndef FIO_INTERNAL_H
#define FIO_INTERNAL_H

#include "big.h"

/** The slow part of small allocation: get a block with room, then slice (zeroed if
 *  `zero`). */
FIO_INTERNAL void *fio_small_alloc_slow(fio_thread_t *t, size_t size, bool zero);
/** A small allocation aligned to `alignment` (> 16, small enough for a block). */
FIO_INTERNAL void *fio_small_alloc_aligned(size_t size, size_t alignment, bool zero);
/** Any allocation aligned to `alignment` (a power of two), zeroed if `zero`. */
FIO_INTERNAL void *fio_aligned_impl(size_t alignment, size_t size, bool zero);
/** Frees the slice at `p` of small block `b` (after the header check). */
FIO_INTERNAL void fio_small_free(fio_block_t *b, void *p);

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
