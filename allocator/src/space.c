/*
 * space.c - the record of the address space the allocator has mapped, so that a pointer
 * outside it is reported instead of faulting while its header is read.
 *
 * One bit per block-sized granule of address space (every mapping of the allocator
 * starts on a block boundary): set while some mapping of the allocator overlaps the
 * granule. Two levels, as a page table: a static table of leaf pointers indexed by the
 * address's top bits, and leaves of FIO_SPACE_LEAF_BITS bits mapped on first use (and
 * kept: they are small and few). A lookup is two dependent loads; updates happen when
 * memory is mapped or unmapped, with atomic bit operations (several threads map at once).
 */
#include "space.h"

_Atomic(fio_space_leaf_t *) fio_space_top[FIO_SPACE_TOP];

/* The leaf covering `granule`, mapped when `create` and missing (NULL if the system
 * refuses, or when not creating). */
static fio_space_leaf_t *fio_space_leaf(uintptr_t granule, bool create) {
  _Atomic(fio_space_leaf_t *) *slot = &fio_space_top[granule >> FIO_SPACE_LEAF_SHIFT];
  fio_space_leaf_t *leaf = atomic_load_explicit(slot, memory_order_acquire);
  if (leaf || !create) return leaf;
  fio_space_leaf_t *fresh = fio_os_map(sizeof(fio_space_leaf_t), fio_global.page_size, 0);
  if (!fresh) return NULL;
  if (atomic_compare_exchange_strong_explicit(slot, &leaf, fresh, memory_order_acq_rel,
                                              memory_order_acquire))
    return fresh;
  fio_os_unmap(fresh, sizeof(fio_space_leaf_t)); /* another thread made it first */
  return leaf;
}

/* Sets or clears the bits of granules [first, last]. */
static void fio_space_mark(uintptr_t first, uintptr_t last, bool set) {
  for (uintptr_t g = first; g <= last; ++g) {
    fio_space_leaf_t *leaf = fio_space_leaf(g, set);
    if (!leaf) {
      if (set)
        fio_fatal("cannot map the record of the address space",
                  (void *)(g << FIO_SPACE_GRANULE_SHIFT));
      continue;
    }
    uintptr_t i = g & (FIO_SPACE_LEAF_BITS - 1);
    uint64_t bit = 1ULL << (i % 64);
    if (set)
      atomic_fetch_or_explicit(&leaf->bits[i / 64], bit, memory_order_relaxed);
    else
      atomic_fetch_and_explicit(&leaf->bits[i / 64], ~bit, memory_order_relaxed);
  }
}

/* The granules a mapping [a, a + len) owns: from the first that starts in it (a mapping
 * whose user pointer is aligned to a block or more starts a page before a granule) to the
 * one holding its last byte. Mappings start at or after the end of the one before, so no
 * two mappings own a granule. */
static void fio_space_range(uintptr_t a, size_t len, uintptr_t *first, uintptr_t *last) {
  *first = (a + FIO_BLOCK_SIZE - 1) >> FIO_SPACE_GRANULE_SHIFT;
  *last = (a + len - 1) >> FIO_SPACE_GRANULE_SHIFT;
}

void fio_space_add(const void *base, size_t len) {
  uintptr_t first, last;
  fio_space_range((uintptr_t)base, len, &first, &last);
  if (first <= last) fio_space_mark(first, last, true);
}

void fio_space_remove(const void *base, size_t len) {
  uintptr_t first, last;
  fio_space_range((uintptr_t)base, len, &first, &last);
  if (first <= last) fio_space_mark(first, last, false);
}

void fio_space_trim(const void *base, size_t old_len, size_t new_len) {
  uintptr_t a = (uintptr_t)base;
  uintptr_t keep = (a + new_len - 1) >> FIO_SPACE_GRANULE_SHIFT;
  uintptr_t last = (a + old_len - 1) >> FIO_SPACE_GRANULE_SHIFT;
  if (last > keep) fio_space_mark(keep + 1, last, false);
}
