/*
 * shim_test.h - helpers shared by the test programs of libfio-malloc.so.
 *
 * The programs are ordinary executables that do not link the allocator: ctest runs them
 * with the shim in LD_PRELOAD, as a user would run any program. They reach the fio API
 * (statistics) through dlsym, which also proves that the shim is loaded.
 */
#ifndef FIO_SHIM_TEST_H
#define FIO_SHIM_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fio/fio_malloc.h"

#define SHIM_LIBRARY_NAME "libfio-malloc.so"

#define SHIM_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      fflush(stderr);                                                          \
      _Exit(1);                                                                \
    }                                                                          \
  } while (0)

/* Whether the object that holds `address` is the shim; names the object in `where`. */
static inline int shim_owns_address(const void *address, const char **where) {
  Dl_info info;
  *where = "(no object)";
  if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL) return 0;
  *where = info.dli_fname;
  const char *base = strrchr(info.dli_fname, '/');
  base = base != NULL ? base + 1 : info.dli_fname;
  return strcmp(base, SHIM_LIBRARY_NAME) == 0;
}

/* Fails unless the process-wide definition of `symbol` (what the dynamic linker binds a
 * program's reference to) is the shim's. */
static inline void shim_expect_symbol_from_shim(const char *symbol) {
  const char *where;
  void *address = dlsym(RTLD_DEFAULT, symbol);
  if (!shim_owns_address(address, &where)) {
    fprintf(stderr, "%s resolves to %s, not to %s: is the shim in LD_PRELOAD?\n", symbol, where,
            SHIM_LIBRARY_NAME);
    _Exit(1);
  }
}

/* The shim's statistics snapshot, read through the fio API it exports. */
static inline fio_malloc_stats_t shim_stats(void) {
  typedef void (*stats_fn)(fio_malloc_stats_t *);
  stats_fn stats = (stats_fn)dlsym(RTLD_DEFAULT, "fio_malloc_stats");
  SHIM_CHECK(stats != NULL);
  fio_malloc_stats_t out;
  stats(&out);
  return out;
}

/* splitmix64: a small deterministic generator for sizes and choices. */
static inline uint64_t shim_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Fills an object with bytes derived from `tag`, and checks them back: a corrupting
 * allocator (an overlap, a bad realloc copy) fails loudly. */
static inline void shim_fill(unsigned char *p, size_t size, uint64_t tag) {
  for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(tag + i * 7);
}

static inline int shim_verify(const unsigned char *p, size_t size, uint64_t tag) {
  for (size_t i = 0; i < size; i++)
    if (p[i] != (unsigned char)(tag + i * 7)) return 0;
  return 1;
}

static inline int shim_all_zero(const unsigned char *p, size_t size) {
  for (size_t i = 0; i < size; i++)
    if (p[i] != 0) return 0;
  return 1;
}

#endif /* FIO_SHIM_TEST_H */
