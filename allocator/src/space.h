/*
 * space.h - the address space the allocator mapped (space.c), and the full registry of
 * its mappings in checking builds (checking.c).
 */
#ifndef FIO_SPACE_H
#define FIO_SPACE_H

#include "lock.h"

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

#if FIO_CHECKING
/** Registry of the allocator's mappings: small blocks by base, big ones by user pointer. */
FIO_INTERNAL void fio_check_add(const void *key);
FIO_INTERNAL void fio_check_remove(const void *key);
FIO_INTERNAL bool fio_check_has(const void *key);
FIO_INTERNAL void fio_check_lock(void);
FIO_INTERNAL void fio_check_unlock(void);
FIO_INTERNAL void fio_check_reset_lock(void);
#endif

#endif /* FIO_SPACE_H */
