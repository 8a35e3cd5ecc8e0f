/*
 * aligned.c - aligned allocation in the forms C, POSIX and glibc define, in both families:
 * the fio API's (zeroed) and the C standard's (_uninit: contents indeterminate).
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

void *fio_aligned_impl(size_t alignment, size_t size, bool zero) {
  if (!fio_is_pow2(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  if (alignment <= FIO_SLICE) return zero ? fio_malloc(size) : fio_malloc_uninit(size);
  if (alignment <= FIO_SMALL_ALIGN_MAX && size <= FIO_BIG_LIMIT)
    return fio_small_alloc_aligned(size, alignment, zero);
  return fio_big_alloc(size, alignment, zero);
}

static int fio_posix_memalign_impl(void **out, size_t alignment, size_t size, bool zero) {
  if (!fio_is_pow2(alignment) || alignment % sizeof(void *)) return EINVAL;
  int saved = errno;
  void *p = fio_aligned_impl(alignment, size, zero);
  int err = errno;
  errno = saved;
  if (!p) return err == EINVAL ? EINVAL : ENOMEM;
  *out = p;
  return 0;
}

static void *fio_memalign_impl(size_t alignment, size_t size, bool zero) {
  if (!fio_is_pow2(alignment) && alignment > FIO_SLICE) {
    if (alignment > SIZE_MAX / 2 + 1) {
      errno = EINVAL;
      return NULL;
    }
    size_t a = FIO_SLICE;
    while (a < alignment) a <<= 1;
    alignment = a;
  }
  if (alignment < FIO_SLICE) alignment = FIO_SLICE;
  return fio_aligned_impl(alignment, size, zero);
}

static void *fio_pvalloc_impl(size_t size, bool zero) {
  fio_init();
  size_t page = fio_global.page_size;
  if (size == 0) size = page;
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return NULL;
  }
  return fio_aligned_impl(page, (size + page - 1) & ~(page - 1), zero);
}

void *fio_aligned_alloc(size_t alignment, size_t size) {
  return fio_aligned_impl(alignment, size, true);
}
void *fio_aligned_alloc_uninit(size_t alignment, size_t size) {
  return fio_aligned_impl(alignment, size, false);
}

int fio_posix_memalign(void **out, size_t alignment, size_t size) {
  return fio_posix_memalign_impl(out, alignment, size, true);
}
int fio_posix_memalign_uninit(void **out, size_t alignment, size_t size) {
  return fio_posix_memalign_impl(out, alignment, size, false);
}

void *fio_memalign(size_t alignment, size_t size) {
  return fio_memalign_impl(alignment, size, true);
}
void *fio_memalign_uninit(size_t alignment, size_t size) {
  return fio_memalign_impl(alignment, size, false);
}

void *fio_valloc(size_t size) {
  fio_init();
  return fio_aligned_impl(fio_global.page_size, size, true);
}
void *fio_valloc_uninit(size_t size) {
  fio_init();
  return fio_aligned_impl(fio_global.page_size, size, false);
}

void *fio_pvalloc(size_t size) {
  return fio_pvalloc_impl(size, true);
}
void *fio_pvalloc_uninit(size_t size) {
  return fio_pvalloc_impl(size, false);
}
