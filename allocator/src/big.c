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
 *
 * Freed mappings of the first layout (header at the block-aligned base) wait in a small
 * process-wide cache (FIO_BIG_CACHE_SLOTS entries, FIO_BIG_CACHE_BYTES in all, oldest
 * unmapped first) and serve later requests that fit them closely; for a zero-asking
 * request the reused bytes the previous user could reach are zeroed again. Cached
 * mappings still count in mapped_bytes, not in big_allocations / big_bytes / live_bytes.
 */
#include "big.h"

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
  h->kind = FIO_BIG_MAPPING;
  return h;
}

static size_t fio_block_round(size_t n) {
  return (n + FIO_BLOCK_SIZE - 1) & ~(size_t)(FIO_BLOCK_SIZE - 1);
}

static void fio_big_count_live(fio_thread_t *t, int64_t objects, int64_t bytes, int64_t usable) {
  /* Past its exit destructor a thread must not register again (nothing would unlink it);
   * its counters are then lost with it. */
  if (fio_unlikely(t->state == FIO_THREAD_NONE)) fio_thread_init(t);
  fio_counter_add(&t->stats.big_allocations, (uint64_t)objects);
  fio_counter_add(&t->stats.big_bytes, (uint64_t)bytes);
  fio_counter_add(&t->stats.live_bytes, (uint64_t)usable);
}

static void fio_big_count(fio_thread_t *t, int64_t objects, int64_t bytes, int64_t usable) {
  fio_big_count_live(t, objects, bytes, usable);
  atomic_fetch_add_explicit(&fio_mapped_bytes, (uint64_t)bytes, memory_order_relaxed);
}

/* ---- the cache of freed mappings ------------------------------------------------------ */

typedef struct fio_big_cached_s {
  void *base; /* block aligned; [base + 64, base + len) may hold the previous user's bytes */
  size_t len;
} fio_big_cached_t;

static struct {
  fio_lock_t lock;
  _Atomic uint32_t n; /* entries, oldest first (read unlocked as a hint) */
  size_t bytes;       /* their total length */
  fio_big_cached_t e[FIO_BIG_CACHE_SLOTS > 0 ? FIO_BIG_CACHE_SLOTS : 1];
} fio_big_cache;

/* Entries longer than this are not kept (one would crowd the cache out). */
#define FIO_BIG_CACHE_ENTRY_MAX (FIO_BIG_CACHE_BYTES / 4)

static void fio_big_cache_take_lock(void) {
  if (fio_lock(&fio_big_cache.lock)) fio_counter_add(&fio_thread.stats.contention, 1);
}

static void fio_big_unmap(void *base, size_t len) {
  fio_asan_unpoison(base, len); /* a later mapping at this address starts clean */
  fio_space_remove(base, len);
  atomic_fetch_sub_explicit(&fio_mapped_bytes, (uint64_t)len, memory_order_relaxed);
  if (fio_os_unmap(base, len) != 0) fio_fatal("munmap of a big allocation failed", base);
}

/* Takes the closest fit for `need` bytes (at most 1.5 times as long), or returns NULL. */
static void *fio_big_cache_get(size_t need, size_t *len) {
  if (FIO_BIG_CACHE_SLOTS == 0 || FIO_BIG_CACHE_BYTES == 0 || need > FIO_BIG_CACHE_ENTRY_MAX)
    return NULL;
  if (atomic_load_explicit(&fio_big_cache.n, memory_order_relaxed) == 0) return NULL;
  size_t most = need + need / 2;
  void *base = NULL;
  fio_big_cache_take_lock();
  uint32_t n = atomic_load_explicit(&fio_big_cache.n, memory_order_relaxed), best = n;
  for (uint32_t i = n; i-- > 0;) { /* newest first: its pages are the likeliest resident */
    size_t l = fio_big_cache.e[i].len;
    if (l >= need && l <= most && (best == n || l < fio_big_cache.e[best].len)) {
      best = i;
      if (l == need) break;
    }
  }
  if (best < n) {
    base = fio_big_cache.e[best].base;
    *len = fio_big_cache.e[best].len;
    fio_big_cache.bytes -= *len;
    memmove(&fio_big_cache.e[best], &fio_big_cache.e[best + 1],
            (n - best - 1) * sizeof(fio_big_cached_t));
    atomic_store_explicit(&fio_big_cache.n, n - 1, memory_order_relaxed);
  }
  fio_unlock(&fio_big_cache.lock);
  return base;
}

/* Keeps a freed mapping; returns false when it is not cacheable (the caller unmaps it). */
static bool fio_big_cache_put(void *base, size_t len) {
  if (FIO_BIG_CACHE_SLOTS == 0 || FIO_BIG_CACHE_BYTES == 0 || len > FIO_BIG_CACHE_ENTRY_MAX)
    return false;
  fio_big_cached_t evicted[FIO_BIG_CACHE_SLOTS > 0 ? FIO_BIG_CACHE_SLOTS : 1];
  uint32_t k = 0;
  fio_big_cache_take_lock();
  uint32_t n = atomic_load_explicit(&fio_big_cache.n, memory_order_relaxed);
  while (n > 0 && (n == FIO_BIG_CACHE_SLOTS || fio_big_cache.bytes + len > FIO_BIG_CACHE_BYTES)) {
    evicted[k++] = fio_big_cache.e[0];
    fio_big_cache.bytes -= fio_big_cache.e[0].len;
    memmove(&fio_big_cache.e[0], &fio_big_cache.e[1], --n * sizeof(fio_big_cached_t));
  }
  fio_big_cache.e[n].base = base;
  fio_big_cache.e[n].len = len;
  fio_big_cache.bytes += len;
  atomic_store_explicit(&fio_big_cache.n, n + 1, memory_order_relaxed);
  fio_unlock(&fio_big_cache.lock);
  while (k > 0) {
    --k;
    fio_big_unmap(evicted[k].base, evicted[k].len);
  }
  return true;
}

/* Unmaps every cached mapping (a map failed: the memory may be needed elsewhere). */
bool fio_big_cache_flush(void) {
  bool any = false;
  for (;;) {
    fio_big_cached_t one = {NULL, 0};
    fio_big_cache_take_lock();
    uint32_t n = atomic_load_explicit(&fio_big_cache.n, memory_order_relaxed);
    if (n > 0) {
      one = fio_big_cache.e[n - 1];
      fio_big_cache.bytes -= one.len;
      atomic_store_explicit(&fio_big_cache.n, n - 1, memory_order_relaxed);
    }
    fio_unlock(&fio_big_cache.lock);
    if (!one.base) return any;
    fio_big_unmap(one.base, one.len);
    any = true;
  }
}

void fio_big_cache_lock(void) {
  fio_lock(&fio_big_cache.lock);
}
void fio_big_cache_unlock(void) {
  fio_unlock(&fio_big_cache.lock);
}
void fio_big_cache_reset_lock(void) {
  atomic_store_explicit(&fio_big_cache.lock.locked, 0, memory_order_relaxed);
}

/* Requests the middle tier serves: a run's header takes the first 64 bytes, so the user
 * pointer is aligned to 64 and no more. */
static bool fio_big_fits_run(size_t size, size_t alignment) {
  return FIO_MID_MAX > 0 && size <= FIO_MID_MAX && alignment <= sizeof(fio_big_t);
}

/* Counts and registers a big allocation just placed. */
/* Zeroes reused memory of the allocation `h` of `size` bytes as `zero` (FIO_ZERO_*) asks. */
static void fio_big_zero_reused(fio_big_t *h, size_t size, int zero) {
  if (zero) memset(h->user, 0, zero == FIO_ZERO_SIZE ? size : fio_big_usable(h));
}

static void *fio_big_hand_out(fio_thread_t *t, fio_big_t *h) {
  fio_counter_add(&t->stats.allocations, 1);
#if FIO_CHECKING
  fio_check_add(h->user);
#endif
  return h->user;
}

void *fio_big_map(size_t size, size_t alignment, int zero) {
  fio_init();
  if (alignment < FIO_SLICE) alignment = FIO_SLICE;
  size_t uoff = fio_big_user_offset(alignment);
  if (size > PTRDIFF_MAX || size > (size_t)PTRDIFF_MAX - uoff - fio_global.page_size) {
    errno = ENOMEM;
    return NULL;
  }
  if (size == 0) size = 1;
  size_t len = fio_page_round(uoff + size);
  fio_thread_t *t = &fio_thread;
  fio_big_t *h;
  char *base = alignment < FIO_BLOCK_SIZE ? fio_big_cache_get(len, &len) : NULL;
  if (base) {
    fio_asan_unpoison(base, len);
    h = fio_big_place(base, len, alignment);
    /* What the previous user could write, or what the caller asked for. */
    fio_big_zero_reused(h, size, zero);
    fio_big_count_live(t, 1, (int64_t)len, (int64_t)fio_big_usable(h));
  } else {
    size_t malign = fio_big_map_alignment(alignment), moff = alignment >= FIO_BLOCK_SIZE ? uoff : 0;
    base = fio_os_map(len, malign, moff);
    if (!base && fio_release_idle()) base = fio_os_map(len, malign, moff);
    if (!base) return NULL;
    fio_space_add(base, len);
    h = fio_big_place(base, len, alignment);
    fio_big_count(t, 1, (int64_t)len, (int64_t)fio_big_usable(h));
  }
  return fio_big_hand_out(t, h);
}

void *fio_big_alloc(size_t size, size_t alignment, int zero) {
  if (fio_big_fits_run(size, alignment)) {
    fio_init();
    size_t len = fio_block_round(sizeof(fio_big_t) + (size ? size : 1));
    bool old;
    char *base = fio_mid_take(len, &old);
    if (base) { /* else no chunk could be mapped: a mapping of its own may still fit */
      fio_thread_t *t = &fio_thread;
      fio_asan_unpoison(base, len);
      fio_big_t *h = fio_big_place(base, len, FIO_SLICE);
      h->kind = FIO_BIG_RUN;
      if (old) fio_big_zero_reused(h, size, zero);
      fio_big_count_live(t, 1, (int64_t)len, (int64_t)fio_big_usable(h));
      return fio_big_hand_out(t, h);
    }
  }
  return fio_big_map(size, alignment, zero);
}

void *fio_mmap(size_t size) {
  return fio_big_map(size, FIO_SLICE, true);
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
  fio_big_count_live(t, -1, -(int64_t)len, -(int64_t)fio_big_usable(h));
  fio_counter_add(&t->stats.frees, 1);
  h->magic = 0; /* a second free of a still-mapped copy fails the header check */
  if (h->kind == FIO_BIG_RUN) {
    fio_mid_give(base, len);
    return;
  }
  bool keep = h->alignment < FIO_BLOCK_SIZE;
  /* A cached mapping's user bytes are poisoned until reuse (the header stays readable). */
  if (keep) fio_asan_poison(h->user, fio_big_usable(h));
  if (!keep || !fio_big_cache_put(base, len)) fio_big_unmap(base, len);
}

/* Resizes a middle-tier run: in place when the blocks after it are free, else the object
 * moves (to another run, or to a mapping of its own past FIO_MID_MAX). */
static void *fio_big_realloc_run(fio_big_t *h, size_t new_size, size_t valid, bool zero) {
  char *user = h->user;
  size_t u = fio_big_usable(h);
  size_t new_len = fio_block_round(sizeof(fio_big_t) + new_size);
  bool old;
  if (fio_big_fits_run(new_size, FIO_SLICE) &&
      fio_mid_resize(h->map_base, h->map_len, new_len, &old)) {
    int64_t delta = (int64_t)new_len - (int64_t)h->map_len;
    h->map_len = new_len;
    fio_big_count_live(&fio_thread, 0, delta, delta);
    size_t nu = fio_big_usable(h);
    if (zero) { /* as for a mapping: past what is kept, the old bytes and the added ones */
      size_t keep = valid < new_size ? valid : new_size, end = nu < u ? nu : u;
      if (keep < end) memset(user + keep, 0, end - keep);
      if (nu > u && old) memset(user + u, 0, nu - u);
    }
    return user;
  }
  void *q = fio_big_alloc(new_size, FIO_SLICE, zero);
  if (!q) return NULL;
  memcpy(q, user, valid < new_size ? valid : new_size);
  fio_big_free(h);
  return q;
}

void *fio_big_realloc(fio_big_t *h, size_t new_size, size_t valid, bool zero) {
  char *user = h->user;
  size_t u = fio_big_usable(h);
  if (valid > u) valid = u;
  if (new_size <= FIO_BIG_LIMIT) { /* small again: move into a block */
    void *q = zero ? fio_malloc(new_size) : fio_malloc_uninit(new_size);
    if (!q) return NULL;
    memcpy(q, user, valid < new_size ? valid : new_size);
    fio_big_free(h);
    return q;
  }
  if (h->kind == FIO_BIG_RUN) return fio_big_realloc_run(h, new_size, valid, zero);
  size_t uoff = (size_t)(user - (char *)h->map_base);
  if (new_size > (size_t)PTRDIFF_MAX - uoff - fio_global.page_size) {
    errno = ENOMEM;
    return NULL;
  }
  size_t new_len = fio_page_round(uoff + new_size);
  size_t old_len = h->map_len;
  fio_thread_t *t = &fio_thread;
  if (new_len <= old_len) {
    /* The record forgets the tail before the system takes it back: once unmapped, another
     * thread's new mapping may land there and record itself. */
    if (new_len < old_len) fio_space_trim(h->map_base, old_len, new_len);
    if (new_len < old_len && fio_os_resize(h->map_base, old_len, new_len) == 0) {
      h->map_len = new_len;
      fio_big_count(t, 0, (int64_t)new_len - (int64_t)old_len, (int64_t)new_len - (int64_t)old_len);
    }
    size_t keep = valid < new_size ? valid : new_size;
    if (zero) memset(user + keep, 0, fio_big_usable(h) - keep);
    return user;
  }
  if (fio_os_resize(h->map_base, old_len, new_len) != 0) {
    void *old_base = h->map_base; /* `h` moves with the pages */
    size_t alignment = h->alignment;
    size_t malign = fio_big_map_alignment(alignment), moff = alignment >= FIO_BLOCK_SIZE ? uoff : 0;
    /* Forgotten before the move leaves the range free for other threads' mappings. */
    fio_space_remove(old_base, old_len);
    char *base = fio_os_move(old_base, old_len, new_len, malign, moff);
    if (!base && fio_release_idle()) base = fio_os_move(old_base, old_len, new_len, malign, moff);
    if (!base) {
      fio_space_add(old_base, old_len); /* still there */
      return NULL;
    }
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
  fio_space_add(h->map_base, new_len);
  fio_big_count(t, 0, (int64_t)new_len - (int64_t)old_len, (int64_t)new_len - (int64_t)old_len);
  if (zero) memset(user + valid, 0, u - valid); /* pages added read zero already */
  return user;
}

bool fio_release_idle(void) {
  bool freed = fio_big_cache_flush();
  if (fio_mid_release_idle()) freed = true;
  if (fio_pool_release_idle()) freed = true;
  return freed;
}
