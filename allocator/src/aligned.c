/*
 * aligned.c - aligned allocation in the forms C, POSIX and glibc define.
 *
 * Alignments up to a page with sizes that fit a block are sliced from the thread's
 * block (the padding before the slice stays unused); larger ones are mapped directly.
 */
#include "internal.h"

#include <errno.h>

#define FIO_SMALL_ALIGN_MAX 4096

static bool fio_is_pow2(size_t x) {
  return x && !(x & (x - 1));
}

void *fio_aligned_alloc(size_t alignment, size_t size) {
  if (!fio_is_pow2(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  if (alignment <= FIO_SLICE) return fio_malloc(size);
  if (alignment <= FIO_SMALL_ALIGN_MAX && size <= FIO_BIG_LIMIT)
    return fio_small_alloc_aligned(size, alignment);
  return fio_big_alloc(size, alignment);
}

int fio_posix_memalign(void **out, size_t alignment, size_t size) {
  if (!fio_is_pow2(alignment) || alignment % sizeof(void *)) return EINVAL;
  int saved = errno;
  void *p = fio_aligned_alloc(alignment, size);
  int err = errno;
  errno = saved;
  if (!p) return err == EINVAL ? EINVAL : ENOMEM;
  *out = p;
  return 0;
}

void *fio_memalign(size_t alignment, size_t size) {
  if (alignment <= FIO_SLICE) return fio_malloc(size);
  if (!fio_is_pow2(alignment)) {
    if (alignment > SIZE_MAX / 2 + 1) {
      errno = EINVAL;
      return NULL;
    }
    size_t a = FIO_SLICE;
    while (a < alignment) a <<= 1;
    alignment = a;
  }
  return fio_aligned_alloc(alignment, size);
}

void *fio_valloc(size_t size) {
  fio_init();
  return fio_aligned_alloc(fio_global.page_size, size);
}

void *fio_pvalloc(size_t size) {
  fio_init();
  size_t page = fio_global.page_size;
  if (size == 0) size = page;
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return NULL;
  }
  return fio_aligned_alloc(page, (size + page - 1) & ~(page - 1));
}
