/*
 * big.c - allocations mapped from the system directly (above the big limit, fio_mmap,
 * and alignments a block cannot serve).
 *
 * Two layouts keep `free`'s classification by the block alignment:
 *  - alignment below the block size: the mapping is block aligned, the header sits at
 *    its start and the user pointer at max(64, alignment) bytes in, so masking the
 *    pointer finds the header;
 *  - alignment of a block or more: the user pointer is aligned (offset 0 in its block,
 *    which no small object has) and the header is the 64 bytes before it.
 * Growing keeps the layout: in place with mremap without MAYMOVE, else the pages move
 * to a new mapping aligned the same way (never a plain mremap(MAYMOVE)).
 */
#include "internal.h"

#include <errno.h>

static size_t fio_page_round(size_t n) {
  size_t page = fio_global.page_size;
  return (n + page - 1) & ~(page - 1);
}

/* Where a mapping with this user alignment puts the user pointer and the header. */
static size_t fio_big_user_offset(size_t alignment) {
  if (alignment >= FIO_BLOCK_SIZE) return fio_global.page_size;
  return alignment > sizeof(fio_big_t) ? alignment : sizeof(fio_big_t);
}
static size_t fio_big_map_alignment(size_t alignment) {
  return alignment >= FIO_BLOCK_SIZE ? alignment : FIO_BLOCK_SIZE;
}

static fio_big_t *fio_big_place(char *base, size_t len, size_t alignment) {
  char *user = base + fio_big_user_offset(alignment);
  fio_big_t *h =
      alignment >= FIO_BLOCK_SIZE ? (fio_big_t *)(user - sizeof(fio_big_t)) : (fio_big_t *)base;
  h->magic = fio_cookie(FIO_MAGIC_BIG, h);
  h->map_base = base;
  h->map_len = len;
  h->user = user;
  h->alignment = alignment;
  return h;
}

static void fio_big_count(fio_thread_t *t, int64_t objects, int64_t bytes, int64_t usable) {
  /* Past its exit destructor a thread must not register again (nothing would unlink it);
   * its counters are then lost with it. */
  if (fio_unlikely(t->state == FIO_THREAD_NONE)) fio_thread_init(t);
  fio_counter_add(&t->stats.big_allocations, (uint64_t)objects);
  fio_counter_add(&t->stats.big_bytes, (uint64_t)bytes);
  fio_counter_add(&t->stats.live_bytes, (uint64_t)usable);
  atomic_fetch_add_explicit(&fio_mapped_bytes, (uint64_t)bytes, memory_order_relaxed);
}

void *fio_big_alloc(size_t size, size_t alignment) {
  fio_init();
  if (alignment < FIO_SLICE) alignment = FIO_SLICE;
  size_t uoff = fio_big_user_offset(alignment);
  if (size > PTRDIFF_MAX || size > (size_t)PTRDIFF_MAX - uoff - fio_global.page_size) {
    errno = ENOMEM;
    return NULL;
  }
  if (size == 0) size = 1;
  size_t len = fio_page_round(uoff + size);
  char *base =
      fio_os_map(len, fio_big_map_alignment(alignment), alignment >= FIO_BLOCK_SIZE ? uoff : 0);
  if (!base) return NULL;
  fio_big_t *h = fio_big_place(base, len, alignment);
  fio_thread_t *t = &fio_thread;
  fio_big_count(t, 1, (int64_t)len, (int64_t)fio_big_usable(h));
  fio_counter_add(&t->stats.allocations, 1);
#if FIO_CHECKING
  fio_check_add(h->user);
#endif
  return h->user;
}

void *fio_mmap(size_t size) {
  return fio_big_alloc(size, FIO_SLICE);
}

fio_big_t *fio_big_header(const void *p) {
  size_t off = (uintptr_t)p & (FIO_BLOCK_SIZE - 1);
  fio_big_t *h =
      off == 0 ? (fio_big_t *)((uintptr_t)p - sizeof(fio_big_t)) : (fio_big_t *)fio_block_of(p);
  if (h->magic != fio_cookie(FIO_MAGIC_BIG, h) || h->user != p) return NULL;
  return h;
}

size_t fio_big_usable(const fio_big_t *h) {
  return (size_t)((char *)h->map_base + h->map_len - (char *)h->user);
}

void fio_big_free(fio_big_t *h) {
  fio_thread_t *t = &fio_thread;
  void *base = h->map_base;
  size_t len = h->map_len;
#if FIO_CHECKING
  fio_check_remove(h->user);
#endif
  fio_big_count(t, -1, -(int64_t)len, -(int64_t)fio_big_usable(h));
  fio_counter_add(&t->stats.frees, 1);
  h->magic = 0; /* a second free of a still-mapped copy fails the header check */
  if (fio_os_unmap(base, len) != 0) fio_fatal("munmap of a big allocation failed", base);
}

void *fio_big_realloc(fio_big_t *h, size_t new_size, size_t valid) {
  char *user = h->user;
  size_t u = fio_big_usable(h);
  if (valid > u) valid = u;
  if (new_size <= FIO_BIG_LIMIT) { /* small again: move into a block */
    void *q = fio_malloc(new_size);
    if (!q) return NULL;
    memcpy(q, user, valid < new_size ? valid : new_size);
    fio_big_free(h);
    return q;
  }
  size_t uoff = (size_t)(user - (char *)h->map_base);
  if (new_size > (size_t)PTRDIFF_MAX - uoff - fio_global.page_size) {
    errno = ENOMEM;
    return NULL;
  }
  size_t new_len = fio_page_round(uoff + new_size);
  size_t old_len = h->map_len;
  fio_thread_t *t = &fio_thread;
  if (new_len <= old_len) {
    if (new_len < old_len && fio_os_resize(h->map_base, old_len, new_len) == 0) {
      h->map_len = new_len;
      fio_big_count(t, 0, (int64_t)new_len - (int64_t)old_len, (int64_t)new_len - (int64_t)old_len);
    }
    size_t keep = valid < new_size ? valid : new_size;
    memset(user + keep, 0, fio_big_usable(h) - keep);
    return user;
  }
  if (fio_os_resize(h->map_base, old_len, new_len) != 0) {
    size_t alignment = h->alignment;
    char *base = fio_os_move(h->map_base, old_len, new_len, fio_big_map_alignment(alignment),
                             alignment >= FIO_BLOCK_SIZE ? uoff : 0);
    if (!base) return NULL;
#if FIO_CHECKING
    fio_check_remove(user);
#endif
    h = fio_big_place(base, old_len, alignment);
    user = h->user;
#if FIO_CHECKING
    fio_check_add(user);
#endif
  }
  h->map_len = new_len;
  fio_big_count(t, 0, (int64_t)new_len - (int64_t)old_len, (int64_t)new_len - (int64_t)old_len);
  memset(user + valid, 0, u - valid); /* pages added read zero already */
  return user;
}
