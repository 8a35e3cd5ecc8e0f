/*
 * mid.c - the middle tier: requests above the big-allocation limit, up to FIO_MID_MAX,
 * served from runs of whole blocks carved out of large chunks and reused without a system
 * call, where a mapping of their own would cost an mmap, an munmap and a page fault per
 * page at every allocation.
 *
 * A chunk (FIO_MID_CHUNK_SIZE) is mapped aligned to its own size; its first block holds
 * the chunk's header: two bitmaps of one bit per block, `used` (the block belongs to a run
 * handed out) and `dirty` (the block was handed out since it last read zero, so its pages
 * are resident and may hold old bytes). A run starts at a block boundary and carries a big
 * allocation's header (fio_big_t, kind FIO_BIG_RUN) at its start, so that `free` classifies
 * its pointer by the block alignment like any big allocation's.
 *
 * Chunks belong to heaps, one per shard of the shared pool, each behind one lock: a
 * thread takes runs from its home heap (first fit, lowest address first), and a run goes
 * back to the heap of its chunk, whoever frees it. Freed runs keep their pages (the next
 * run there faults nothing in) as long as a heap's idle resident bytes stay under
 * FIO_MID_IDLE_MIN plus FIO_MID_IDLE_PERCENT of its live bytes; past that, a freed run's
 * pages go back to the system (madvise) while its address space stays in the chunk. A
 * heap keeps at most one chunk with no run in it; another one that empties is unmapped.
 *
 * A thread keeps the last few runs it freed (FIO_MID_CACHE_SLOTS, each at most
 * FIO_MID_CACHE_RUN_MAX) for its next request of the same length: an alloc/free pair of a
 * buffer then takes no lock. The heap counts a kept run as live until the thread gives it
 * back, which it does when its slots are full, when a request finds no kept run of its
 * length, at its exit, or when a mapping fails.
 */
#include "mid.h"

#include <errno.h>

#if FIO_MID_MAX > 0

#define FIO_MID_BLOCKS (FIO_MID_CHUNK_SIZE / FIO_BLOCK_SIZE)
#define FIO_MID_WORDS ((FIO_MID_BLOCKS + 63) / 64)

typedef struct fio_mid_chunk_s {
  uint64_t magic;               /* FIO_MAGIC_MID mixed with the address */
  struct fio_mid_chunk_s *next; /* the heap's chunks */
  uint32_t heap;                /* index of the heap it belongs to */
  uint32_t free_blocks;         /* blocks in no run (the header's block is always used) */
  uint64_t used[FIO_MID_WORDS];
  uint64_t dirty[FIO_MID_WORDS];
} fio_mid_chunk_t;
_Static_assert(sizeof(fio_mid_chunk_t) <= FIO_BLOCK_SIZE, "mid chunk header: one block");

typedef struct fio_mid_heap_s {
  fio_lock_t lock;
  fio_mid_chunk_t *chunks; /* newest first */
  size_t live;             /* bytes of the runs handed out */
  size_t idle;             /* bytes of dirty blocks in no run: resident, kept for reuse */
} __attribute__((aligned(128))) fio_mid_heap_t;

static fio_mid_heap_t fio_mid_heaps[FIO_ARENA_MAX];

/* ---- bitmaps of blocks ---------------------------------------------------------------- */

/* Bits [lo, hi) of one word, 0 <= lo < hi <= 64. */
static uint64_t fio_bits_mask(size_t lo, size_t hi) {
  return (hi == 64 ? ~0ULL : (1ULL << hi) - 1) & (~0ULL << lo);
}

/* Sets (or clears) bits [from, from + n). */
static void fio_bits_apply(uint64_t *map, size_t from, size_t n, bool set) {
  for (size_t end = from + n; from < end;) {
    size_t lo = from % 64, hi = lo + (end - from) < 64 ? lo + (end - from) : 64;
    uint64_t m = fio_bits_mask(lo, hi);
    if (set)
      map[from / 64] |= m;
    else
      map[from / 64] &= ~m;
    from += hi - lo;
  }
}

/* Set bits among [from, from + n). */
static size_t fio_bits_count(const uint64_t *map, size_t from, size_t n) {
  size_t count = 0;
  for (size_t end = from + n; from < end;) {
    size_t lo = from % 64, hi = lo + (end - from) < 64 ? lo + (end - from) : 64;
    count += (size_t)__builtin_popcountll(map[from / 64] & fio_bits_mask(lo, hi));
    from += hi - lo;
  }
  return count;
}

/* The first index at or after `i` whose bit is `value`, or FIO_MID_BLOCKS. */
static size_t fio_bits_next(const uint64_t *map, size_t i, bool value) {
  while (i < FIO_MID_BLOCKS) {
    uint64_t w = value ? map[i / 64] : ~map[i / 64];
    w &= ~0ULL << (i % 64);
    if (w) {
      size_t at = (i & ~(size_t)63) + (size_t)__builtin_ctzll(w);
      return at < FIO_MID_BLOCKS ? at : FIO_MID_BLOCKS;
    }
    i = (i & ~(size_t)63) + 64;
  }
  return FIO_MID_BLOCKS;
}

/* First fit: the lowest `k` consecutive blocks of `c` in no run, or SIZE_MAX. */
static size_t fio_mid_find(const fio_mid_chunk_t *c, size_t k) {
  for (size_t i = 0;;) {
    i = fio_bits_next(c->used, i, false);
    if (i + k > FIO_MID_BLOCKS) return SIZE_MAX;
    size_t j = fio_bits_next(c->used, i, true);
    if (j - i >= k) return i;
    i = j;
  }
}

/* ---- heaps and chunks ----------------------------------------------------------------- */

static void fio_mid_lock(fio_mid_heap_t *h) {
  if (fio_lock(&h->lock)) fio_counter_add(&fio_thread.stats.contention, 1);
}

static fio_mid_chunk_t *fio_mid_chunk_of(const void *p) {
  fio_mid_chunk_t *c = (fio_mid_chunk_t *)((uintptr_t)p & ~(uintptr_t)(FIO_MID_CHUNK_SIZE - 1));
  if (c->magic != fio_cookie(FIO_MAGIC_MID, c)) fio_fatal("corrupted middle-tier run header", p);
  return c;
}

/* Idle resident bytes a heap with `live` bytes in runs may keep. */
static size_t fio_mid_idle_cap(size_t live) {
  return (size_t)FIO_MID_IDLE_MIN + live / 100 * FIO_MID_IDLE_PERCENT;
}

/* A new chunk for heap `heap`, mapped outside its lock; NULL when the system refuses. */
static fio_mid_chunk_t *fio_mid_chunk_new(uint32_t heap) {
  char *m = fio_os_map(FIO_MID_CHUNK_SIZE, FIO_MID_CHUNK_SIZE, 0);
  if (!m) return NULL;
  atomic_fetch_add_explicit(&fio_mapped_bytes, FIO_MID_CHUNK_SIZE, memory_order_relaxed);
  fio_space_add(m, FIO_MID_CHUNK_SIZE);
  fio_mid_chunk_t *c = (fio_mid_chunk_t *)m;
  c->magic = fio_cookie(FIO_MAGIC_MID, c);
  c->heap = heap;
  c->free_blocks = FIO_MID_BLOCKS - 1;
  fio_bits_apply(c->used, 0, 1, true);
  fio_asan_poison(m + FIO_BLOCK_SIZE, FIO_MID_CHUNK_SIZE - FIO_BLOCK_SIZE);
  return c;
}

static void fio_mid_chunk_unmap(fio_mid_chunk_t *c) {
  fio_asan_unpoison(c, FIO_MID_CHUNK_SIZE);
  fio_space_remove(c, FIO_MID_CHUNK_SIZE);
  if (fio_os_unmap(c, FIO_MID_CHUNK_SIZE) == 0)
    atomic_fetch_sub_explicit(&fio_mapped_bytes, FIO_MID_CHUNK_SIZE, memory_order_relaxed);
}

/* Unlinks `c` from heap `h` (locked) and takes its idle bytes off the heap's count. */
static void fio_mid_chunk_unlink(fio_mid_heap_t *h, fio_mid_chunk_t *c) {
  for (fio_mid_chunk_t **at = &h->chunks; *at; at = &(*at)->next) {
    if (*at == c) {
      *at = c->next;
      break;
    }
  }
  h->idle -= fio_bits_count(c->dirty, 1, FIO_MID_BLOCKS - 1) * FIO_BLOCK_SIZE;
}

/* `c` (in locked heap `h`) holds no run: returns it unlinked when the heap keeps another
 * empty chunk (the caller unmaps it outside the lock), else NULL. */
static fio_mid_chunk_t *fio_mid_chunk_emptied(fio_mid_heap_t *h, fio_mid_chunk_t *c) {
  for (fio_mid_chunk_t *o = h->chunks; o; o = o->next) {
    if (o != c && o->free_blocks == FIO_MID_BLOCKS - 1) {
      fio_mid_chunk_unlink(h, c);
      return c;
    }
  }
  return NULL;
}

/* ---- runs ----------------------------------------------------------------------------- */

/* A run of exactly `len` bytes that thread `t` kept, or NULL. */
static void *fio_mid_cache_take(fio_thread_t *t, size_t len) {
  for (uint32_t i = t->mid_cache_n; i-- > 0;) {
    if (t->mid_cache[i].len != len) continue;
    void *base = t->mid_cache[i].base;
    t->mid_cache[i] = t->mid_cache[--t->mid_cache_n];
    return base;
  }
  return NULL;
}

void *fio_mid_take(size_t len, bool *old) {
  fio_thread_t *t = &fio_thread;
  if (fio_unlikely(t->state == FIO_THREAD_NONE)) fio_thread_init(t);
  void *kept = fio_mid_cache_take(t, len);
  if (kept) {
    *old = true;
    return kept;
  }
  /* A thread whose requests change length keeps nothing: its kept runs would only split
   * the free space of their chunks (first fit goes around them). */
  fio_mid_cache_flush(t);
  uint32_t heap = t->arena;
  fio_mid_heap_t *h = &fio_mid_heaps[heap];
  size_t k = len / FIO_BLOCK_SIZE;
  fio_mid_chunk_t *fresh = NULL;
  fio_mid_lock(h);
  for (;;) {
    for (fio_mid_chunk_t *c = h->chunks; c; c = c->next) {
      if (c->free_blocks < k) continue;
      size_t i = fio_mid_find(c, k);
      if (i == SIZE_MAX) continue;
      fio_bits_apply(c->used, i, k, true);
      c->free_blocks -= (uint32_t)k;
      size_t d = fio_bits_count(c->dirty, i, k);
      h->idle -= d * FIO_BLOCK_SIZE;
      fio_bits_apply(c->dirty, i, k, true);
      h->live += len;
      fio_unlock(&h->lock);
      *old = d != 0;
      return (char *)c + i * FIO_BLOCK_SIZE;
    }
    /* No room: one more chunk, mapped outside the lock (another thread may have added
     * one meanwhile; the search then starts again). */
    if (fresh) {
      fresh->next = h->chunks;
      h->chunks = fresh;
      fresh = NULL;
      continue;
    }
    fio_unlock(&h->lock);
    fresh = fio_mid_chunk_new(heap);
    if (!fresh) return NULL;
    fio_mid_lock(h);
  }
}

/* Gives a run back to the heap of its chunk. */
static void fio_mid_give_heap(void *base, size_t len) {
  fio_mid_chunk_t *c = fio_mid_chunk_of(base);
  fio_mid_heap_t *h = &fio_mid_heaps[c->heap];
  size_t i = (size_t)((char *)base - (char *)c) / FIO_BLOCK_SIZE, k = len / FIO_BLOCK_SIZE;
  /* The bytes are poisoned until reuse; the header stays readable, so that a second free
   * is reported by the header check. */
  fio_asan_poison((char *)base + sizeof(fio_big_t), len - sizeof(fio_big_t));
  fio_mid_lock(h);
  h->live -= len;
  if (h->idle + len > fio_mid_idle_cap(h->live)) {
    /* Too much is idle: the pages go back. The run stays marked used until then, so no
     * thread takes it while its pages are being dropped. */
    fio_unlock(&h->lock);
    bool purged = fio_os_purge(base, len);
    fio_mid_lock(h);
    if (purged) fio_bits_apply(c->dirty, i, k, false);
  }
  if (fio_bits_count(c->dirty, i, k)) h->idle += len;
  fio_bits_apply(c->used, i, k, false);
  c->free_blocks += (uint32_t)k;
  fio_mid_chunk_t *drop = c->free_blocks == FIO_MID_BLOCKS - 1 ? fio_mid_chunk_emptied(h, c) : NULL;
  fio_unlock(&h->lock);
  if (drop) fio_mid_chunk_unmap(drop);
}

void fio_mid_give(void *base, size_t len) {
  fio_thread_t *t = &fio_thread;
  if (len <= FIO_MID_CACHE_RUN_MAX && t->state == FIO_THREAD_ACTIVE) {
    fio_mid_chunk_of(base); /* the same check of the chunk as a run given to its heap */
    if (t->mid_cache_n == FIO_MID_CACHE_SLOTS) { /* the oldest goes back */
      fio_mid_give_heap(t->mid_cache[0].base, t->mid_cache[0].len);
      t->mid_cache[0] = t->mid_cache[--t->mid_cache_n];
    }
    fio_asan_poison((char *)base + sizeof(fio_big_t), len - sizeof(fio_big_t));
    t->mid_cache[t->mid_cache_n].base = base;
    t->mid_cache[t->mid_cache_n].len = len;
    ++t->mid_cache_n;
    return;
  }
  fio_mid_give_heap(base, len);
}

void fio_mid_cache_flush(fio_thread_t *t) {
  while (t->mid_cache_n) {
    --t->mid_cache_n;
    fio_mid_give_heap(t->mid_cache[t->mid_cache_n].base, t->mid_cache[t->mid_cache_n].len);
  }
}

bool fio_mid_resize(void *base, size_t len, size_t new_len, bool *old) {
  fio_mid_chunk_t *c = fio_mid_chunk_of(base);
  fio_mid_heap_t *h = &fio_mid_heaps[c->heap];
  size_t i = (size_t)((char *)base - (char *)c) / FIO_BLOCK_SIZE;
  size_t k = len / FIO_BLOCK_SIZE, nk = new_len / FIO_BLOCK_SIZE;
  *old = false;
  if (nk == k) return true;
  fio_mid_lock(h);
  if (nk < k) { /* the tail blocks go back, resident */
    fio_bits_apply(c->used, i + nk, k - nk, false);
    c->free_blocks += (uint32_t)(k - nk);
    h->idle += (k - nk) * FIO_BLOCK_SIZE;
    h->live -= len - new_len;
    fio_unlock(&h->lock);
    fio_asan_poison((char *)base + new_len, len - new_len);
    return true;
  }
  bool room = i + nk <= FIO_MID_BLOCKS && fio_bits_next(c->used, i + k, true) >= i + nk;
  if (room) {
    size_t d = fio_bits_count(c->dirty, i + k, nk - k);
    h->idle -= d * FIO_BLOCK_SIZE;
    *old = d != 0;
    fio_bits_apply(c->used, i + k, nk - k, true);
    fio_bits_apply(c->dirty, i + k, nk - k, true);
    c->free_blocks -= (uint32_t)(nk - k);
    h->live += new_len - len;
  }
  fio_unlock(&h->lock);
  if (room) fio_asan_unpoison((char *)base + len, new_len - len);
  return room;
}

bool fio_mid_release_idle(void) {
  bool any = fio_thread.mid_cache_n != 0;
  fio_mid_cache_flush(&fio_thread);
  for (uint32_t n = 0; n < FIO_ARENA_MAX; ++n) {
    fio_mid_heap_t *h = &fio_mid_heaps[n];
    if (!h->chunks) continue;
    fio_mid_lock(h);
    fio_mid_chunk_t *empty = NULL;
    for (fio_mid_chunk_t *c = h->chunks, *next; c; c = next) {
      next = c->next;
      if (c->free_blocks != FIO_MID_BLOCKS - 1) continue;
      fio_mid_chunk_unlink(h, c);
      c->next = empty;
      empty = c;
    }
    fio_unlock(&h->lock);
    while (empty) {
      fio_mid_chunk_t *c = empty;
      empty = c->next;
      fio_mid_chunk_unmap(c);
      any = true;
    }
  }
  return any;
}

void fio_mid_lock_all(void) {
  for (uint32_t n = 0; n < FIO_ARENA_MAX; ++n) fio_lock(&fio_mid_heaps[n].lock);
}

void fio_mid_unlock_all(void) {
  for (uint32_t n = 0; n < FIO_ARENA_MAX; ++n) fio_unlock(&fio_mid_heaps[n].lock);
}

void fio_mid_reset_locks(void) {
  for (uint32_t n = 0; n < FIO_ARENA_MAX; ++n)
    atomic_store_explicit(&fio_mid_heaps[n].lock.locked, 0, memory_order_relaxed);
}

#else /* no middle tier: every request above the big limit is mapped directly */

void *fio_mid_take(size_t len, bool *old) {
  (void)len, (void)old;
  return NULL;
}
void fio_mid_give(void *base, size_t len) {
  fio_fatal("middle-tier run in a build without the middle tier", base);
  (void)len;
}
bool fio_mid_resize(void *base, size_t len, size_t new_len, bool *old) {
  (void)base, (void)len, (void)new_len, (void)old;
  return false;
}
bool fio_mid_release_idle(void) {
  return false;
}
void fio_mid_cache_flush(fio_thread_t *t) {
  (void)t;
}
void fio_mid_lock_all(void) {}
void fio_mid_unlock_all(void) {}
void fio_mid_reset_locks(void) {}

#endif
