/*
 * pool.c - where blocks come from and where they go back.
 *
 * A thread takes a block to slice from, in order: its own cache of recycled blocks (no
 * shared state), its home shard of the shared pool, the other shards (try-lock only),
 * the home shard's current chunk, and a new chunk mapped from the system. A block whose
 * count reaches zero goes to the cache of the thread that dropped the last reference,
 * then to that thread's shard. A shard keeps FIO_POOL_CAP_BLOCKS blocks for good; the
 * blocks past that go back to the system once they have sat unused for FIO_POOL_DECAY_MS
 * (a thread that exits hands its cache to its shard, and the thread that replaces it
 * takes the same blocks again: releasing them at once would unmap and map again, page
 * by page), and at once past FIO_POOL_MAX_BLOCKS.
 */
#include "pool.h"

#include <errno.h>

/* One shard of the shared pool, on its own cache lines. */
typedef struct fio_arena_s {
  fio_lock_t lock;
  _Atomic uint32_t pooled_n; /* written under the lock; read by snapshots */
  fio_block_t *pooled;       /* recycled blocks, newest first (taken first: warm) */
  fio_block_t *oldest;       /* the other end of that list (released first) */
  uint64_t oldest_ms;        /* when `oldest` arrived (kept here: no cold header read) */
  char *chunk_pos;           /* uncarved part of the current chunk */
  char *chunk_end;
} __attribute__((aligned(128))) fio_arena_t;

static fio_arena_t fio_arenas[FIO_ARENA_MAX];

_Atomic uint64_t fio_mapped_bytes;

static void fio_arena_lock(fio_thread_t *t, fio_arena_t *a) {
  if (fio_lock(&a->lock)) fio_counter_add(&t->stats.contention, 1);
}

/* ---- taking a block ----------------------------------------------------------------- */

/* A list of blocks linked through their headers, held as its two ends (the newest and
 * the oldest). Each list names the links it uses: FIO_LINK (a shard's pooled blocks, a
 * thread's owned blocks) or FIO_SPARSE_LINK (a thread's sparse blocks, which are owned
 * blocks as well). A block is in at most one list of each. */
#define FIO_LINK offsetof(fio_block_t, link)
#define FIO_SPARSE_LINK offsetof(fio_block_t, sparse_link)

static fio_block_links_t *fio_links(fio_block_t *b, size_t at) {
  return (fio_block_links_t *)((char *)b + at);
}

static void fio_list_push(size_t at, fio_block_t **newest, fio_block_t **oldest, fio_block_t *b) {
  fio_links(b, at)->prev = NULL;
  fio_links(b, at)->next = *newest;
  if (*newest)
    fio_links(*newest, at)->prev = b;
  else
    *oldest = b;
  *newest = b;
}

static void fio_list_unlink(size_t at, fio_block_t **newest, fio_block_t **oldest, fio_block_t *b) {
  fio_block_links_t *l = fio_links(b, at);
  if (l->prev)
    fio_links(l->prev, at)->next = l->next;
  else
    *newest = l->next;
  if (l->next)
    fio_links(l->next, at)->prev = l->prev;
  else
    *oldest = l->prev;
}

/* The shard's list, under its lock: newest at `pooled`, oldest at `oldest`. */
static void fio_arena_count_add(fio_arena_t *a, int32_t d) {
  atomic_store_explicit(&a->pooled_n, atomic_load_explicit(&a->pooled_n, memory_order_relaxed) + d,
                        memory_order_relaxed);
}

static void fio_arena_push(fio_arena_t *a, fio_block_t *b, uint64_t now) {
  b->pooled_ms = now;
  fio_list_push(FIO_LINK, &a->pooled, &a->oldest, b);
  if (a->oldest == b) a->oldest_ms = now;
  fio_arena_count_add(a, 1);
}

static fio_block_t *fio_arena_pop(fio_arena_t *a) {
  fio_block_t *b = a->pooled;
  if (b) {
    fio_list_unlink(FIO_LINK, &a->pooled, &a->oldest, b);
    fio_arena_count_add(a, -1);
  }
  return b;
}

static fio_block_t *fio_arena_pop_oldest(fio_arena_t *a) {
  fio_block_t *b = a->oldest;
  fio_list_unlink(FIO_LINK, &a->pooled, &a->oldest, b);
  if (a->oldest) a->oldest_ms = a->oldest->pooled_ms;
  fio_arena_count_add(a, -1);
  return b;
}

/* Blocks past the cap that aged out are released at most this many per visit, so that
 * one call does not unmap for long (blocks past FIO_POOL_MAX_BLOCKS go regardless). */
#define FIO_POOL_RELEASE_PER_VISIT 8

/* Unlinks, under the shard's lock, the blocks that should go back to the system: every
 * block past FIO_POOL_MAX_BLOCKS, and past the cap those unused for FIO_POOL_DECAY_MS.
 * Returns them as a list (linked by `next`) to release after the lock is dropped. */
static fio_block_t *fio_arena_trim(fio_arena_t *a, uint64_t now) {
  fio_block_t *out = NULL;
  const uint64_t decay_ms = FIO_POOL_DECAY_MS;
  unsigned aged = 0;
  for (uint32_t n = atomic_load_explicit(&a->pooled_n, memory_order_relaxed);
       n > FIO_POOL_CAP_BLOCKS; --n) {
    if (n <= FIO_POOL_MAX_BLOCKS && decay_ms > 0) {
      if (aged == FIO_POOL_RELEASE_PER_VISIT || now - a->oldest_ms < decay_ms) break;
      ++aged;
    }
    fio_block_t *b = fio_arena_pop_oldest(a);
    b->link.next = out;
    out = b;
  }
  return out;
}

static void fio_pool_release(fio_thread_t *t, fio_block_t *b);

/* Gives each block of `list` (linked by `next`) back to the system. */
static void fio_pool_release_list(fio_thread_t *t, fio_block_t *list) {
  while (list) {
    fio_block_t *b = list;
    list = b->link.next;
    fio_pool_release(t, b);
  }
}

bool fio_pool_release_idle(void) {
  fio_thread_t *t = &fio_thread;
  bool any = false;
  for (uint32_t i = 0; i < FIO_ARENA_MAX; ++i) {
    fio_arena_t *a = &fio_arenas[i];
    if (!atomic_load_explicit(&a->pooled_n, memory_order_relaxed)) continue;
    fio_arena_lock(t, a);
    fio_block_t *out = a->pooled;
    a->pooled = NULL;
    a->oldest = NULL;
    atomic_store_explicit(&a->pooled_n, 0, memory_order_relaxed);
    fio_unlock(&a->lock);
    any = any || out != NULL;
    fio_pool_release_list(t, out);
  }
  return any;
}

/* Carves one block from the shard's chunk, mapping a new chunk when it is used up.
 * Called with the shard locked; the block's memory is not touched here (its first write
 * faults a page in: not under the lock). When the system refuses a chunk, a single block
 * may still fit; when it refuses that too, the caller gives idle memory back and tries
 * again (fio_release_idle, with no lock held). */
static fio_block_t *fio_arena_carve(fio_arena_t *a) {
  if (a->chunk_pos == a->chunk_end) {
    size_t len = FIO_CHUNK_SIZE;
    char *c = fio_os_map(len, FIO_BLOCK_SIZE, 0);
    if (!c) { /* near the address-space limit a single block may still fit */
      len = FIO_BLOCK_SIZE;
      c = fio_os_map(len, FIO_BLOCK_SIZE, 0);
      if (!c) return NULL;
    }
    atomic_fetch_add_explicit(&fio_mapped_bytes, len, memory_order_relaxed);
    fio_space_add(c, len);
    a->chunk_pos = c;
    a->chunk_end = c + len;
  }
  fio_block_t *b = (fio_block_t *)a->chunk_pos;
  a->chunk_pos += FIO_BLOCK_SIZE;
#if FIO_CHECKING
  fio_check_add(b);
#endif
  return b;
}

/* Unlocks shard `a`, after unlinking what it should no longer keep, and gives that back
 * to the system (outside the lock). */
static void fio_arena_unlock_and_trim(fio_thread_t *t, fio_arena_t *a, uint64_t now) {
  fio_block_t *out = fio_arena_trim(a, now);
  fio_unlock(&a->lock);
  fio_pool_release_list(t, out);
}

/* Pops the newest block of shard `a`, which the caller has locked, and unlocks it. Every
 * visit to a shard, taking or returning, releases what aged out there: a program that
 * only allocates from the pool after a burst of frees gives the burst back too. */
static fio_block_t *fio_arena_take_locked(fio_thread_t *t, fio_arena_t *a, uint64_t now) {
  fio_block_t *b = fio_arena_pop(a);
  fio_arena_unlock_and_trim(t, a, now);
  return b;
}

/* Hands the list `list` (linked by `next`) to the thread's shard, and gives back to the
 * system what the shard should no longer keep. */
static void fio_pool_to_shard(fio_thread_t *t, fio_block_t *list) {
  fio_arena_t *a = &fio_arenas[t->arena];
  uint64_t now = fio_os_now_ms();
  fio_arena_lock(t, a);
  while (list) {
    fio_block_t *b = list;
    list = b->link.next;
    fio_arena_push(a, b, now);
  }
  fio_arena_unlock_and_trim(t, a, now);
}

static void fio_pool_unown(fio_thread_t *t, fio_block_t *b);

/* Forgets `b` as one of the thread's sparse blocks. */
static void fio_pool_unlist_sparse(fio_thread_t *t, fio_block_t *b) {
  b->sparse = 0;
  fio_list_unlink(FIO_SPARSE_LINK, &t->sparse, &t->sparse_oldest, b);
}

void fio_pool_note_sparse(fio_thread_t *t, fio_block_t *b) {
  b->low_mark = 0; /* its count is not watched again until it empties */
  if (b->sparse) return;
  b->sparse = 1;
  fio_list_push(FIO_SPARSE_LINK, &t->sparse, &t->sparse_oldest, b);
}

/* Opens for slicing the first hole of `b` in [from, end) of `need` bytes or more, and of
 * FIO_SPARSE_MIN_HOLE at least: [*at, *to). */
static bool fio_pool_open_hole(fio_block_t *b, size_t from, size_t end, size_t need, size_t *at,
                               size_t *to) {
  if (need < FIO_SPARSE_MIN_HOLE) need = FIO_SPARSE_MIN_HOLE;
  if (!fio_block_find_hole(b, from, end, need, at, to)) return false;
  fio_block_open_hole(b, *at, *to);
  return true;
}

/* What slicing the sparse block `b` again for a request of `need` bytes came to. */
typedef enum { FIO_REOPENED, FIO_REOPEN_NO_FIT, FIO_REOPEN_FULL } fio_reopen_t;

/* Slices the sparse block `b`, which the thread owns, again from its first hole of `need`
 * bytes or more, if FIO_SPARSE_MIN_FREE_KIB of its 1 KiB stretches hold no live slice: a
 * block with less room has short holes between its objects, each a trip through the slow
 * path for one or two allocations. The objects still in it join the current block's count
 * (they were sliced before), so that retiring it settles them with the shared count as for
 * any block. */
static fio_reopen_t fio_pool_reopen(fio_thread_t *t, fio_block_t *b, size_t need) {
  if (!fio_block_has_free_kib(b, FIO_SPARSE_MIN_FREE_KIB)) return FIO_REOPEN_FULL;
  size_t end = fio_block_used_end(b), at, to;
  if (!fio_pool_open_hole(b, FIO_BLOCK_HEADER, end, need, &at, &to))
    return need > FIO_SPARSE_MIN_HOLE ? FIO_REOPEN_NO_FIT : FIO_REOPEN_FULL;
  int64_t live = b->owner_live;
  fio_pool_unown(t, b);
  /* Freed slices hold old bytes anywhere in it. */
  fio_thread_start_block(t, b, at, to, end, live, FIO_BLOCK_SIZE);
  return FIO_REOPENED;
}

bool fio_pool_next_hole(fio_thread_t *t, size_t n) {
  fio_block_t *b = t->cur;
  size_t at, to;
  /* The rest of the hole being left stays unused until the block recycles: the mark at
   * the bump position (the end of its last slice, or its start) already fences it off. */
  if (t->limit >= FIO_BLOCK_SIZE || !fio_pool_open_hole(b, t->limit, t->holes_end, n, &at, &to))
    return false;
  fio_thread_move_to_hole(t, at, to);
  return true;
}

bool fio_pool_take(fio_thread_t *t, size_t need) {
  fio_assert_internal(t->cur == NULL);
  /* Batched frees are settled first so a block is never held back by this thread. */
  fio_pool_flush_pending(t);
  fio_block_t *b = t->cache;
  /* Without a recycled block of its own, a block the thread owns with few objects left
   * is sliced again through its holes before a block is taken from elsewhere: survivors
   * pin their bytes, not a whole block. (A thread whose blocks empty on their own, as in
   * random replacement, keeps reusing them whole, which costs less.) The oldest sparse
   * block is looked at first (it had the longest time to lose objects, so its holes are
   * longer: random replacement pays 5% fewer instructions than when the newest goes
   * first); the ones with too little room leave the list until their count halves. */
  while (!b && need && t->sparse) {
    fio_block_t *s = t->sparse_oldest;
    fio_reopen_t r = fio_pool_reopen(t, s, need);
    if (r == FIO_REOPENED) return true;
    if (r == FIO_REOPEN_NO_FIT) break; /* it stays listed for smaller requests */
    /* Too full for now: it is looked at again once half of its objects are gone. */
    fio_pool_unlist_sparse(t, s);
    s->low_mark = s->owner_live / 2;
  }
  if (b) {
    t->cache = b->link.next;
    atomic_store_explicit(&t->cache_n, atomic_load_explicit(&t->cache_n, memory_order_relaxed) - 1,
                          memory_order_relaxed);
  } else {
    uint32_t n = fio_global.arena_count;
    fio_arena_t *home = &fio_arenas[t->arena];
    uint64_t now = fio_os_now_ms();
    if (atomic_load_explicit(&home->pooled_n, memory_order_relaxed)) {
      fio_arena_lock(t, home);
      b = fio_arena_take_locked(t, home, now);
    }
    /* The other shards: first only those free now, then, rather than map new memory
     * (page faults), waiting for one that holds blocks. */
    for (int wait = 0; !b && wait < 2; ++wait) {
      for (uint32_t i = 1; !b && i < n; ++i) {
        fio_arena_t *a = &fio_arenas[(t->arena + i) % n];
        if (!atomic_load_explicit(&a->pooled_n, memory_order_relaxed)) continue;
        if (wait) {
          fio_arena_lock(t, a);
        } else if (!fio_lock_try(&a->lock)) {
          fio_counter_add(&t->stats.contention, 1);
          continue;
        }
        b = fio_arena_take_locked(t, a, now);
      }
    }
    if (!b) {
      fio_arena_lock(t, home);
      b = fio_arena_carve(home);
      fio_unlock(&home->lock);
      if (!b) {
        errno = ENOMEM;
        return false;
      }
      /* Memory never touched: its pages come in with one call rather than a fault each,
       * for a thread that has filled a block before (one that allocates a few objects
       * keeps only the pages it touches). */
      if (fio_counter_get(&t->stats.blocks_opened)) fio_os_prefault(b, FIO_BLOCK_SIZE);
      b->arena = t->arena; /* its `dirty_to` reads 0: fresh, every byte zero */
    }
  }
  uint32_t dirty_to = b->dirty_to; /* what its last life handed out may be old */
  fio_block_open(b);
  fio_thread_start_block(t, b, FIO_BLOCK_HEADER, FIO_BLOCK_SIZE, 0, 0, dirty_to);
  fio_counter_add(&t->stats.blocks_opened, 1);
  return true;
}

/* ---- giving a block back ------------------------------------------------------------ */

/* Adds `delta` to the block's shared count (the owner's objects minus the bias, or other
 * threads' frees); whoever brings it to zero recycles the block, into its own cache only
 * if it sliced the block. */
static void fio_pool_settle(fio_thread_t *t, fio_block_t *b, int64_t delta) {
  int64_t left = atomic_fetch_add_explicit(&b->refs, delta, memory_order_acq_rel) + delta;
  if (left == 0)
    fio_pool_recycle(t, b, atomic_load_explicit(&b->sliced_by, memory_order_relaxed) == t->id);
  else if (fio_unlikely(left < 0))
    fio_fatal("double free detected: block reference count below zero", b);
}

/* Takes `b` off the thread's list of owned blocks. */
static void fio_pool_unown(fio_thread_t *t, fio_block_t *b) {
  if (b->sparse) fio_pool_unlist_sparse(t, b);
  fio_list_unlink(FIO_LINK, &t->owned, &t->owned_oldest, b);
  --t->owned_n;
  fio_thread_forget_owned(t, b);
  atomic_store_explicit(&b->owner, FIO_NO_OWNER, memory_order_relaxed);
  atomic_store_explicit(&b->sliced_by, FIO_NO_OWNER, memory_order_relaxed); /* not again */
}

/* The owner stops counting its frees into `b`: its count joins the shared one, which
 * other threads' frees have been lowering under the bias, and later frees are batched. */
static void fio_pool_disown(fio_thread_t *t, fio_block_t *b) {
  int64_t n = b->owner_live;
  fio_pool_unown(t, b);
  fio_pool_settle(t, b, n - FIO_BLOCK_BIAS);
}

void fio_pool_retire(fio_thread_t *t) {
  fio_block_t *b = t->cur;
  if (!b) return;
  /* Its next life learns which bytes may be old (published by the settlement below).
   * The thread forgets the block before publishing the count: a thread interrupted here
   * (a fork) leaks the block rather than counting it twice. */
  int64_t n = fio_thread_stop_block(t);
  atomic_signal_fence(memory_order_seq_cst);
  /* The thread may take the block over again at its first free into it (fio_pool_own). */
  if (t->state == FIO_THREAD_ACTIVE)
    atomic_store_explicit(&b->sliced_by, t->id, memory_order_relaxed);
  fio_pool_settle(t, b, n - FIO_BLOCK_BIAS);
}

void fio_pool_own(fio_thread_t *t, fio_block_t *b) {
  /* The shared count becomes the bias again; what it held, this free excepted, is now
   * counted by the owner. Other threads' frees go on subtracting from the bias. */
  int64_t v = atomic_load_explicit(&b->refs, memory_order_relaxed);
  do {
    if (fio_unlikely(v <= 0))
      fio_fatal("double free detected: block reference count below zero", b);
    fio_assert(v < FIO_BLOCK_BIAS / 2); /* a retired block: no other thread holds the bias */
  } while (!atomic_compare_exchange_weak_explicit(&b->refs, &v, FIO_BLOCK_BIAS,
                                                  memory_order_acq_rel, memory_order_relaxed));
  if (v == 1) { /* this free was its last object */
    fio_pool_recycle(t, b, true);
    return;
  }
  b->owner_live = v - 1;
  b->low_mark = FIO_SPARSE_LIVE;
  fio_list_push(FIO_LINK, &t->owned, &t->owned_oldest, b);
  atomic_store_explicit(&b->owner, t->id, memory_order_relaxed);
  fio_thread_know_owned(t, b); /* the frees that follow this one likely land here too */
  /* This free counts as the owner's: the freed bitmap records it. */
  if (v - 1 <= FIO_SPARSE_LIVE) fio_pool_note_sparse(t, b);
  /* Past the cap the oldest joins the shared count. So do the oldest ones that other
   * threads have freed into (only a shared count can reach zero by their frees); a few
   * each time, so that the list shrinks when other threads' frees catch up. */
  if (++t->owned_n > FIO_OWNED_BLOCKS) fio_pool_disown(t, t->owned_oldest);
  for (int k = 0; k < FIO_OWNED_CHECKS_PER_OWN; ++k) {
    fio_block_t *oldest = t->owned_oldest;
    if (oldest == b || atomic_load_explicit(&oldest->refs, memory_order_relaxed) == FIO_BLOCK_BIAS)
      break;
    fio_pool_disown(t, oldest);
  }
}

void fio_pool_owned_low(fio_thread_t *t, fio_block_t *b, int64_t left) {
  if (left <= 0)
    fio_pool_owned_empty(t, b);
  else
    fio_pool_note_sparse(t, b);
}

void fio_pool_owned_empty(fio_thread_t *t, fio_block_t *b) {
  /* The owner counted every object freed. Other threads can have freed none of them
   * (the owner's count covers theirs), so the shared count still holds the bias alone. */
  if (fio_unlikely(b->owner_live < 0 ||
                   atomic_load_explicit(&b->refs, memory_order_relaxed) != FIO_BLOCK_BIAS))
    fio_fatal("double free detected: more frees than objects in the block", b);
  fio_pool_unown(t, b);
  fio_pool_recycle(t, b, true);
}

void fio_pool_disown_all(fio_thread_t *t) {
  while (t->owned_oldest) fio_pool_disown(t, t->owned_oldest);
}

void fio_pool_flush_pending(fio_thread_t *t) {
  fio_block_t *b = t->pending;
  if (!b) return;
  int64_t n = t->pending_n;
  t->pending = NULL;
  t->pending_n = 0;
  atomic_signal_fence(memory_order_seq_cst);
  fio_pool_settle(t, b, -n);
}

static void fio_pool_release(fio_thread_t *t, fio_block_t *b) {
#if FIO_CHECKING
  fio_check_remove(b);
#endif
  fio_asan_unpoison(b, FIO_BLOCK_SIZE);
  fio_space_remove(b, FIO_BLOCK_SIZE); /* a pointer into it is no longer the allocator's */
  if (fio_os_unmap(b, FIO_BLOCK_SIZE) == 0) {
    atomic_fetch_sub_explicit(&fio_mapped_bytes, FIO_BLOCK_SIZE, memory_order_relaxed);
    fio_counter_add(&t->stats.blocks_released, 1);
  }
  /* An unmap that fails (too many mappings) leaves the block mapped and lost: rare. */
}

void fio_pool_recycle(fio_thread_t *t, fio_block_t *b, bool sliced_here) {
  fio_block_close(b);
  fio_counter_add(&t->stats.blocks_recycled, 1);
  uint32_t n = atomic_load_explicit(&t->cache_n, memory_order_relaxed);
  b->link.next = NULL;
  /* Of the blocks other threads sliced, the cache keeps a few: a thread that inherits
   * what another left (larson) slices them again, while one that only frees (a consumer)
   * would otherwise hold a cache full of blocks it never takes as the producers map new
   * ones. The rest go to the shared pool, where the threads that slice find them. */
  uint32_t cap = sliced_here ? FIO_THREAD_CACHE_BLOCKS : FIO_THREAD_CACHE_FOREIGN;
  if (t->state == FIO_THREAD_ACTIVE && n < cap) {
    b->link.next = t->cache;
    t->cache = b;
    atomic_store_explicit(&t->cache_n, n + 1, memory_order_relaxed);
    return;
  }
  fio_pool_to_shard(t, b);
}

void fio_pool_drain_cache(fio_thread_t *t) {
  /* Unhook the cache first, so that a thread interrupted here (a fork) leaks the blocks
   * rather than holding them twice; then one visit to the shard for them all. */
  fio_block_t *list = t->cache;
  t->cache = NULL;
  atomic_store_explicit(&t->cache_n, 0, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  if (list) fio_pool_to_shard(t, list);
}

uint64_t fio_pool_count(void) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < FIO_ARENA_MAX; ++i)
    n += atomic_load_explicit(&fio_arenas[i].pooled_n, memory_order_relaxed);
  return n;
}

void fio_pool_lock_all(void) {
  for (uint32_t i = 0; i < FIO_ARENA_MAX; ++i) fio_lock(&fio_arenas[i].lock);
}

void fio_pool_unlock_all(void) {
  for (uint32_t i = 0; i < FIO_ARENA_MAX; ++i) fio_unlock(&fio_arenas[i].lock);
}

void fio_pool_reset_locks(void) {
  for (uint32_t i = 0; i < FIO_ARENA_MAX; ++i)
    atomic_store_explicit(&fio_arenas[i].lock.locked, 0, memory_order_relaxed);
}
