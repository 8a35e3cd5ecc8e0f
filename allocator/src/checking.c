/*
 * checking.c - the registry of the allocator's memory in checking builds.
 *
 * A hash set of addresses: the base of every small-object block that is mapped, and the
 * user pointer of every live big allocation. A free checks its pointer against it before
 * reading any header, so a pointer from elsewhere is reported instead of followed.
 * Open addressing with linear probing in memory mapped from the system; one lock.
 */
#include "space.h"

#if FIO_CHECKING

#define FIO_CHECK_EMPTY ((uintptr_t)0)
#define FIO_CHECK_GONE ((uintptr_t)1)

static fio_lock_t fio_check_guard;
static uintptr_t *fio_check_table;
static size_t fio_check_cap;  /* slots, a power of two */
static size_t fio_check_used; /* keys + tombstones */
static size_t fio_check_keys;

static size_t fio_check_hash(uintptr_t k) {
  k ^= k >> 29;
  k *= 0xbf58476d1ce4e5b9ULL;
  k ^= k >> 32;
  return (size_t)k;
}

static void fio_check_insert_raw(uintptr_t *table, size_t cap, uintptr_t k) {
  size_t i = fio_check_hash(k) & (cap - 1);
  while (table[i] > FIO_CHECK_GONE) i = (i + 1) & (cap - 1);
  table[i] = k;
}

static void fio_check_grow(void) {
  size_t cap = fio_check_cap ? fio_check_cap : 4096;
  while (fio_check_keys * 2 >= cap) cap *= 2;
  size_t page = fio_os_page_size();
  size_t bytes = (cap * sizeof(uintptr_t) + page - 1) & ~(page - 1);
  uintptr_t *table = fio_os_map(bytes, page, 0);
  if (!table) fio_fatal("checking registry: out of memory", NULL);
  for (size_t i = 0; i < fio_check_cap; ++i)
    if (fio_check_table[i] > FIO_CHECK_GONE) fio_check_insert_raw(table, cap, fio_check_table[i]);
  if (fio_check_table) {
    size_t old = (fio_check_cap * sizeof(uintptr_t) + page - 1) & ~(page - 1);
    fio_os_unmap(fio_check_table, old);
  }
  fio_check_table = table;
  fio_check_cap = cap;
  fio_check_used = fio_check_keys;
}

void fio_check_lock(void) {
  fio_lock(&fio_check_guard);
}
void fio_check_unlock(void) {
  fio_unlock(&fio_check_guard);
}
void fio_check_reset_lock(void) {
  atomic_store_explicit(&fio_check_guard.locked, 0, memory_order_relaxed);
}

void fio_check_add(const void *key) {
  fio_check_lock();
  if ((fio_check_used + 1) * 4 >= fio_check_cap * 3) fio_check_grow();
  uintptr_t k = (uintptr_t)key;
  size_t i = fio_check_hash(k) & (fio_check_cap - 1);
  while (fio_check_table[i] > FIO_CHECK_GONE) {
    if (fio_check_table[i] == k) fio_fatal("checking registry: address registered twice", key);
    i = (i + 1) & (fio_check_cap - 1);
  }
  if (fio_check_table[i] == FIO_CHECK_EMPTY) ++fio_check_used;
  fio_check_table[i] = k;
  ++fio_check_keys;
  fio_check_unlock();
}

/* Slot of `k`, or SIZE_MAX. Called with the lock held. */
static size_t fio_check_find(uintptr_t k) {
  if (!fio_check_cap) return SIZE_MAX;
  size_t i = fio_check_hash(k) & (fio_check_cap - 1);
  while (fio_check_table[i] != FIO_CHECK_EMPTY) {
    if (fio_check_table[i] == k) return i;
    i = (i + 1) & (fio_check_cap - 1);
  }
  return SIZE_MAX;
}

void fio_check_remove(const void *key) {
  fio_check_lock();
  size_t i = fio_check_find((uintptr_t)key);
  if (i == SIZE_MAX) fio_fatal("checking registry: removing an unknown address", key);
  fio_check_table[i] = FIO_CHECK_GONE;
  --fio_check_keys;
  fio_check_unlock();
}

bool fio_check_has(const void *key) {
  fio_check_lock();
  bool found = fio_check_find((uintptr_t)key) != SIZE_MAX;
  fio_check_unlock();
  return found;
}

#endif /* FIO_CHECKING */
