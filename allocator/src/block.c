/*
 * block.c - one small-object block: its header, its bitmaps, its consistency check.
 */
#include "block.h"

size_t fio_bitmap_next_from(_Atomic uint64_t *map, size_t wi) {
  for (; wi < FIO_BITMAP_WORDS; ++wi) {
    uint64_t w = atomic_load_explicit(map + wi, memory_order_relaxed);
    if (w) return (wi * 64 + (size_t)__builtin_ctzll(w)) * FIO_SLICE;
  }
  return FIO_BLOCK_SIZE;
}

/* Offset of the last mark of a recycled block's bitmap: the end of the last slice of its
 * previous life (a slice given back to the unsliced part clears its end mark). The bitmap
 * words past it are zero. */
size_t fio_block_used_end(fio_block_t *b) {
  for (size_t wi = FIO_BITMAP_WORDS; wi-- > 0;) {
    uint64_t w = atomic_load_explicit(&b->starts[wi], memory_order_relaxed);
    if (w) return (wi * 64 + 63 - (size_t)__builtin_clzll(w)) * FIO_SLICE;
  }
  return FIO_BLOCK_HEADER;
}

void fio_block_open(fio_block_t *b) {
  if (b->dirty_to) {
    /* A recycled block: its bitmap holds the marks of its previous life. Its memory is
     * not zeroed here: the opening thread learns what may be old (`dirty_to`), and only a
     * zero-asking allocation zeroes it. */
    size_t end = fio_block_used_end(b);
    memset((void *)b->starts, 0, (end / FIO_SLICE / 64 + 1) * sizeof(b->starts[0]));
    memset((void *)b->freed, 0, (end / FIO_SLICE / 64 + 1) * sizeof(b->freed[0]));
  }
#if FIO_CHECKING
  fio_assert_internal(fio_block_validate(b, FIO_BLOCK_HEADER));
#endif
  b->magic = fio_cookie(FIO_MAGIC_SMALL, b);
  b->link.next = NULL;
  atomic_store_explicit(&b->owner, FIO_NO_OWNER, memory_order_relaxed);
  atomic_store_explicit(&b->sliced_by, FIO_NO_OWNER, memory_order_relaxed);
  atomic_store_explicit(&b->refs, FIO_BLOCK_BIAS, memory_order_relaxed);
  fio_bitmap_set(b->starts, FIO_BLOCK_HEADER); /* the first slice starts after the header */
  /* Unsliced space stays poisoned; each slice is unpoisoned as it is handed out. */
  fio_asan_poison((char *)b + FIO_BLOCK_HEADER, FIO_BLOCK_SIZE - FIO_BLOCK_HEADER);
}

void fio_block_close(fio_block_t *b) {
#if FIO_CHECKING
  for (size_t i = 0; i < FIO_BITMAP_WORDS; ++i)
    if (atomic_load_explicit(&b->live[i], memory_order_relaxed))
      fio_fatal("block recycled with live objects (reference count corrupted)", b);
#endif
  b->magic = fio_cookie(FIO_MAGIC_POOLED, b);
  fio_asan_poison((char *)b + FIO_BLOCK_HEADER, FIO_BLOCK_SIZE - FIO_BLOCK_HEADER);
}

void fio_block_rewind(fio_block_t *b, size_t from, size_t to) {
  /* Bits of [from, to] (the end mark at `to` included) go; `from` stays the first start. */
  size_t first = from / FIO_SLICE / 64, last = to / FIO_SLICE / 64;
  if (last >= FIO_BITMAP_WORDS) last = FIO_BITMAP_WORDS - 1;
  for (size_t i = first; i <= last; ++i) {
    atomic_store_explicit(&b->starts[i], 0, memory_order_relaxed);
    atomic_store_explicit(&b->freed[i], 0, memory_order_relaxed);
  }
  fio_bitmap_set(b->starts, from);
  fio_asan_poison((char *)b + from, to - from);
}

/* Clears the bits `m` of word `w`. */
static void fio_bitmap_clear_bits(_Atomic uint64_t *w, uint64_t m) {
  atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) & ~m,
                        memory_order_relaxed);
}

/* Clears the bits of offsets [from, to) of `map`: a mask at each end, whole words between. */
static void fio_bitmap_clear_range(_Atomic uint64_t *map, size_t from, size_t to) {
  size_t i = from / FIO_SLICE, e = to / FIO_SLICE;
  if (i >= e) return;
  size_t wi = i / 64, we = (e - 1) / 64;
  uint64_t first = ~0ULL << (i % 64), last = ~0ULL >> (63 - (e - 1) % 64);
  if (wi == we) {
    fio_bitmap_clear_bits(map + wi, first & last);
    return;
  }
  fio_bitmap_clear_bits(map + wi, first);
  for (size_t k = wi + 1; k < we; ++k) atomic_store_explicit(map + k, 0, memory_order_relaxed);
  fio_bitmap_clear_bits(map + we, last);
}

/* Word `wi` of the starts of the slices kept in `b`: those not freed by its slicer or
 * owner (live, or freed by another thread), and the end mark. */
static uint64_t fio_block_kept_word(fio_block_t *b, size_t wi) {
  return atomic_load_explicit(&b->starts[wi], memory_order_relaxed) &
         ~atomic_load_explicit(&b->freed[wi], memory_order_relaxed);
}

/* The first start of a kept slice at or after `offset`, or FIO_BLOCK_SIZE: a word of the
 * bitmaps at a time, however many freed slices lie between. */
static size_t fio_block_next_kept(fio_block_t *b, size_t offset) {
  size_t i = offset / FIO_SLICE, wi = i / 64;
  uint64_t w = fio_block_kept_word(b, wi) & (~0ULL << (i % 64));
  while (!w) {
    if (++wi >= FIO_BITMAP_WORDS) return FIO_BLOCK_SIZE;
    w = fio_block_kept_word(b, wi);
  }
  return (wi * 64 + (size_t)__builtin_ctzll(w)) * FIO_SLICE;
}

bool fio_block_find_hole(fio_block_t *b, size_t from, size_t end, size_t need, size_t *at,
                         size_t *to) {
  /* Free space begins at `from`, or past the slice kept there. */
  size_t free_from = from;
  if (from < end && !fio_bitmap_test(b->freed, from)) free_from = fio_bitmap_next(b->starts, from);
  while (free_from <= end && free_from < FIO_BLOCK_SIZE) {
    size_t k = fio_block_next_kept(b, free_from);
    size_t e = k >= end ? FIO_BLOCK_SIZE : k; /* freed slices reaching `end` join the tail */
    if (e - free_from >= need) {
      *at = free_from, *to = e;
      return true;
    }
    if (e == FIO_BLOCK_SIZE) break;
    free_from = fio_bitmap_next(b->starts, k); /* past the slice kept at `k` */
  }
  return false;
}

bool fio_block_has_free_kib(fio_block_t *b, size_t kib) {
  for (size_t wi = 0; wi < FIO_BITMAP_BITS / 64 && kib; ++wi) kib -= !fio_block_kept_word(b, wi);
  return kib == 0;
}

void fio_block_open_hole(fio_block_t *b, size_t at, size_t to) {
  /* The slices that were there are forgotten; `at` stays a slice start, and `to` (a live
   * slice's start, or the block's end) the end of what will be sliced here. */
  fio_bitmap_clear_range(b->starts, at + FIO_SLICE, to);
  fio_bitmap_clear_range(b->freed, at, to);
}

bool fio_block_validate(fio_block_t *b, size_t bump) {
  if (bump < FIO_BLOCK_HEADER || bump > FIO_BLOCK_SIZE || bump % FIO_SLICE) return false;
  /* No mark before the first slice, none past the bump position. */
  for (size_t off = 0; off < FIO_BLOCK_HEADER; off += FIO_SLICE)
    if (fio_bitmap_test(b->starts, off)) return false;
  for (size_t off = bump + FIO_SLICE; off <= FIO_BLOCK_SIZE; off += FIO_SLICE)
    if (fio_bitmap_test(b->starts, off)) return false;
#if FIO_CHECKING
  /* Live objects start on a slice mark, before the bump position. */
  for (size_t off = 0; off <= FIO_BLOCK_SIZE; off += FIO_SLICE)
    if (fio_bitmap_test(b->live, off) && (off >= bump || !fio_bitmap_test(b->starts, off)))
      return false;
#endif
  return true;
}
