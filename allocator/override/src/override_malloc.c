/*
 * override_malloc.c - the C allocation entry points of libfio-malloc.so.
 *
 * Every function a glibc program (or glibc itself) can reach to allocate or free is
 * defined here and forwards to the fio allocator's public API, which already carries
 * glibc's semantics (see fio/fio_malloc.h): nothing here decides anything. The C
 * standard's contract is the `_uninit` family (only calloc zeroes): a program pays for no
 * zeroing it did not ask for. The library
 * is linked with -Bsymbolic-functions, so each forward is one direct jump.
 *
 * glibc reaches malloc through its PLT, so these definitions also serve the memory that
 * libc allocates internally (strdup, getline, stdio buffers, ...), and pointers from
 * every aligned allocator reach fio_free (unlike the original fio_mem override, which
 * defined four symbols and let glibc's memalign memory reach fio_free).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>

#include "fio/fio_malloc.h"

/* Entry points no public header declares any more: cfree was dropped from glibc's headers
 * in 2.26 but is still exported for old binaries; the __libc_ names are glibc's own. */
void cfree(void *ptr);
void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_reallocarray(void *ptr, size_t count, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

void *malloc(size_t size) {
  return fio_malloc_uninit(size);
}
void free(void *ptr) {
  fio_free(ptr);
}
void cfree(void *ptr) {
  fio_free(ptr);
}
void *calloc(size_t count, size_t size) {
  return fio_calloc_uninit(count, size);
}
void *realloc(void *ptr, size_t size) {
  return fio_realloc_uninit(ptr, size);
}
void *reallocarray(void *ptr, size_t count, size_t size) {
  return fio_reallocarray_uninit(ptr, count, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
  return fio_posix_memalign_uninit(out, alignment, size);
}
void *aligned_alloc(size_t alignment, size_t size) {
  return fio_aligned_alloc_uninit(alignment, size);
}
void *memalign(size_t alignment, size_t size) {
  return fio_memalign_uninit(alignment, size);
}
void *valloc(size_t size) {
  return fio_valloc_uninit(size);
}
void *pvalloc(size_t size) {
  return fio_pvalloc_uninit(size);
}
size_t malloc_usable_size(void *ptr) {
  return fio_malloc_usable_size(ptr);
}

void *__libc_malloc(size_t size) {
  return fio_malloc_uninit(size);
}
void __libc_free(void *ptr) {
  fio_free(ptr);
}
void *__libc_calloc(size_t count, size_t size) {
  return fio_calloc_uninit(count, size);
}
void *__libc_realloc(void *ptr, size_t size) {
  return fio_realloc_uninit(ptr, size);
}
void *__libc_reallocarray(void *ptr, size_t count, size_t size) {
  return fio_reallocarray_uninit(ptr, count, size);
}
void *__libc_memalign(size_t alignment, size_t size) {
  return fio_memalign_uninit(alignment, size);
}
void *__libc_valloc(size_t size) {
  return fio_valloc_uninit(size);
}
void *__libc_pvalloc(size_t size) {
  return fio_pvalloc_uninit(size);
}
