/*
 * alloc.c - small allocations: the bump fast path, its slow path, aligned slices,
 * realloc and usable size.
 *
 * Fast path: round the size up to 16, check the room left in the thread's block, bump,
 * mark the slice's end in the block's bitmap. No lock, no atomic read-modify-write, no
 * cache line another thread writes, no zeroing.
 *
 * Two families share it. The fio API (fio_malloc, fio_calloc, fio_realloc, ...) returns
 * zeroed memory; the C standard's calls (fio_malloc_uninit and the other _uninit calls,
 * behind the override shim's malloc, realloc, aligned calls and operator new) do not
 * zero. The thread knows which part of its block may hold old bytes (`dirty_to`: below
 * it, what earlier slices handed out; a block fresh from the system has none), so a
 * zero-asking allocation zeroes only the old bytes it receives, or all of them in one run.
 */
#include "internal.h"

#include <errno.h>

/* Hands out [pos, pos + n) of the thread's current block, which has the room. */
FIO_INLINE void *fio_slice(fio_thread_t *t, size_t pos, size_t n) {
  fio_block_t *b = t->cur;
  char *p = (char *)b + pos;
  fio_thread_set_pos(t, pos + n); /* counts the n bytes (fio_thread_pos) */
  t->newest = p;
  fio_counter_add(&t->cur_sliced, 1); /* counts the allocation */
  fio_bitmap_set(b->starts, pos + n);
  fio_asan_unpoison(p, n);
#if FIO_CHECKING
  size_t i = pos / FIO_SLICE;
  atomic_fetch_or_explicit(&b->live[i / 64], 1ULL << (i % 64), memory_order_relaxed);
#endif
  return p;
}

/* A zero-asking slice of [pos, pos + n) where old bytes lie ([pos, dirty_to) may hold
 * them). The first FIO_ZERO_RUN_AFTER such slices of a block zero their own bytes only: a
 * program that mostly mallocs and callocs now and then pays for what it asked. The next
 * one zeroes every old byte left in the block in one run, so that a series of zero-asking
 * allocations costs one memset per block (cheaper than one per object), which leaves the
 * lines hot for the slices that follow. */
static FIO_NOINLINE void *fio_slice_zeroed(fio_thread_t *t, size_t pos, size_t n) {
  /* In a hole of a sparse block the old bytes end where the hole does (live objects
   * follow), and later holes keep theirs. */
  size_t end = t->dirty_to < t->limit ? t->dirty_to : t->limit;
  size_t old = end - pos;
  char *p = fio_slice(t, pos, n);
  if (old <= n) {
    fio_zero(p, old);
  } else if (t->zero_asks < FIO_ZERO_RUN_AFTER) {
    ++t->zero_asks;
    fio_zero(p, n);
  } else {
    fio_asan_unpoison(p + n, old - n);
    memset(p, 0, old);
    fio_asan_poison(p + n, old - n);
    /* Nothing old is left past the bump position. In a hole of a sparse block that holds
     * up to the hole's end; what lies past it is marked old again when slicing leaves the
     * hole (fio_thread_move_to_hole, fio_thread_stop_block, fio_free_rewind), and until
     * then cannot be sliced. Without this every zero-asking slice of the hole would zero
     * the rest of it again. */
    t->dirty_to = 0;
  }
  return p;
}

/* The whole of malloc, inlined into each allocating entry point so that none jumps to
 * another. `zero` (FIO_ZERO_*; `true` is FIO_ZERO_USABLE): what the caller asked to read
 * zero. A slice is zeroed whole either way (its usable tail is under 16 bytes). */
FIO_INLINE void *fio_malloc_inline(size_t size, int zero) {
  fio_thread_t *t = &fio_thread;
  if (fio_likely(size <= FIO_BIG_LIMIT)) {
    size_t n = fio_small_round(size);
    size_t pos = fio_thread_pos(t);
    if (fio_likely(pos + n <= t->limit)) {
      if (zero && fio_unlikely(pos < t->dirty_to)) {
        /* Old bytes ahead: those of an alloc/free pair (no further than the object) are
         * zeroed here; more go to the run logic. */
        size_t old = t->dirty_to - pos;
        if (old > n) return fio_slice_zeroed(t, pos, n);
        void *p = fio_slice(t, pos, n);
        fio_zero(p, old);
        return p;
      }
      return fio_slice(t, pos, n);
    }
    return fio_small_alloc_slow(t, size, zero);
  }
  return fio_big_alloc(size, FIO_SLICE, zero);
}

FIO_HOT_ENTRY void *fio_malloc(size_t size) {
  return fio_malloc_inline(size, true);
}

FIO_HOT_ENTRY void *fio_malloc_uninit(size_t size) {
  return fio_malloc_inline(size, false);
}

/* A block for thread `t`, whose current one is retired: when the system refuses memory,
 * the memory held idle goes back and the take is tried once more. */
static bool fio_small_take(fio_thread_t *t, size_t need) {
  return fio_pool_take(t, need) || (fio_release_idle() && fio_pool_take(t, need));
}

FIO_NOINLINE void *fio_small_alloc_slow(fio_thread_t *t, size_t size, bool zero) {
  if (fio_unlikely(t->state != FIO_THREAD_ACTIVE)) fio_thread_init(t);
  size_t n = fio_small_round(size);
  if (fio_thread_pos(t) + n > t->limit && !(t->holes_end && fio_pool_next_hole(t, n))) {
    fio_pool_retire(t);
    if (!fio_small_take(t, n)) return NULL;
  }
  size_t pos = fio_thread_pos(t);
  if (zero && pos < t->dirty_to) return fio_slice_zeroed(t, pos, n);
  return fio_slice(t, pos, n);
}

void *fio_small_alloc_aligned(size_t size, size_t alignment, bool zero) {
  fio_thread_t *t = &fio_thread;
  if (fio_unlikely(t->state != FIO_THREAD_ACTIVE)) fio_thread_init(t);
  size_t n = fio_small_round(size);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (t->cur) {
      uintptr_t base = (uintptr_t)t->cur;
      size_t pos = fio_thread_pos(t);
      size_t at = ((base + pos + alignment - 1) & ~(uintptr_t)(alignment - 1)) - base;
      if (at + n <= t->limit) {
        /* The padding becomes an unowned slice: the previous object keeps its size, and
         * the padding is not live. */
        if (at != pos) {
          fio_bitmap_set(t->cur->starts, at);
          fio_thread_move_pos(t, at);
        }
        if (zero && at < t->dirty_to) return fio_slice_zeroed(t, at, n);
        return fio_slice(t, at, n);
      }
    }
    /* A new block's first slice starts right after the header, so it always fits. */
    fio_pool_retire(t);
    if (!fio_small_take(t, 0)) return NULL;
  }
  fio_fatal("aligned slice does not fit a fresh block", NULL);
}

/* calloc of either family: `zero` is FIO_ZERO_USABLE for the fio API, FIO_ZERO_SIZE for
 * the C standard's (a reused big allocation has up to a block more usable than asked). */
FIO_INLINE void *fio_calloc_inline(size_t count, size_t size, int zero) {
  size_t total;
  if (fio_unlikely(__builtin_mul_overflow(count, size, &total))) {
    errno = ENOMEM;
    return NULL;
  }
  return fio_malloc_inline(total, zero);
}

FIO_HOT_ENTRY void *fio_calloc(size_t count, size_t size) {
  return fio_calloc_inline(count, size, FIO_ZERO_USABLE);
}

FIO_HOT_ENTRY void *fio_calloc_uninit(size_t count, size_t size) {
  return fio_calloc_inline(count, size, FIO_ZERO_SIZE);
}

/* ---- realloc ------------------------------------------------------------------------ */

/* `valid`: how many of the old bytes are meaningful (SIZE_MAX for plain realloc).
 * `zero`: every byte past them reads zero (the fio API); else past them the contents are
 * indeterminate (the C standard's realloc). */
static void *fio_realloc_impl(void *p, size_t new_size, size_t valid, bool zero, const char *op) {
  if (!p) return fio_malloc_inline(new_size, zero);
  if (new_size == 0) {
    fio_free(p);
    return NULL;
  }
  if (new_size > PTRDIFF_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  fio_thread_t *t = &fio_thread;
  char *cp = p;
  fio_block_t *b;
  size_t off, u;
  if (cp == t->newest) {
    /* The newest slice of this thread's block (a buffer growing step by step): known live,
     * in `cur`, ending at the bump position; no classification, no search for its end. */
    b = t->cur;
    off = (size_t)(cp - (char *)b);
    u = fio_thread_pos(t) - off;
  } else {
    fio_big_t *big;
    b = fio_classify(p, &big, op);
    if (big) return fio_big_realloc(big, new_size, valid, zero);
    off = (size_t)(cp - (char *)b);
    u = fio_block_slice_size(b, off);
  }
  if (valid > u) valid = u;
  if (new_size <= u) {
    /* Shrink in place; for the fio API what no longer belongs to the object is zeroed so
     * that a later growth reads zero past the kept bytes. */
    size_t keep = valid < new_size ? valid : new_size;
    if (zero) memset(cp + keep, 0, u - keep);
    return p;
  }
  if (new_size <= FIO_BIG_LIMIT && b == t->cur && off + u == fio_thread_pos(t)) {
    size_t n = fio_small_round(new_size);
    if (off + n <= t->limit) {
      /* The last slice of this thread's block grows over unsliced space. */
      fio_bitmap_clear(b->starts, off + u);
      fio_bitmap_set(b->starts, off + n);
      fio_thread_set_pos(t, off + n); /* counts the n - u bytes more */
      fio_asan_unpoison(cp + u, n - u);
      if (zero) {
        /* Unsliced bytes below dirty_to may be old; the rest read zero already. */
        size_t old_end = t->dirty_to < off + n ? t->dirty_to : off + n;
        if (old_end > off + u) memset(cp + u, 0, old_end - (off + u));
        memset(cp + valid, 0, u - valid);
      }
      return p;
    }
  }
  void *q = new_size <= FIO_BIG_LIMIT ? fio_malloc_inline(new_size, zero)
                                      : fio_big_alloc(new_size, FIO_SLICE, zero);
  if (!q) return NULL;
  memcpy(q, p, valid);
  fio_free(p);
  return q;
}

void *fio_realloc(void *ptr, size_t new_size) {
  return fio_realloc_impl(ptr, new_size, SIZE_MAX, true, "fio_realloc");
}

void *fio_realloc2(void *ptr, size_t new_size, size_t copy_length) {
  return fio_realloc_impl(ptr, new_size, copy_length, true, "fio_realloc2");
}

void *fio_realloc_uninit(void *ptr, size_t new_size) {
  return fio_realloc_impl(ptr, new_size, SIZE_MAX, false, "realloc");
}

static void *fio_reallocarray_impl(void *ptr, size_t count, size_t size, bool zero) {
  size_t total;
  if (fio_unlikely(__builtin_mul_overflow(count, size, &total))) {
    errno = ENOMEM;
    return NULL;
  }
  return zero ? fio_realloc(ptr, total) : fio_realloc_uninit(ptr, total);
}

void *fio_reallocarray(void *ptr, size_t count, size_t size) {
  return fio_reallocarray_impl(ptr, count, size, true);
}

void *fio_reallocarray_uninit(void *ptr, size_t count, size_t size) {
  return fio_reallocarray_impl(ptr, count, size, false);
}

size_t fio_malloc_usable_size(const void *ptr) {
  if (!ptr) return 0;
  fio_big_t *big;
  fio_block_t *b = fio_classify(ptr, &big, "fio_malloc_usable_size");
  if (big) return fio_big_usable(big);
  return fio_block_slice_size(b, (size_t)((const char *)ptr - (const char *)b));
}

/* ---- classification (realloc, usable size, checking free) ---------------------------- */

fio_block_t *fio_classify(const void *p, fio_big_t **big, const char *op) {
  *big = NULL;
  size_t off = (uintptr_t)p & (FIO_BLOCK_SIZE - 1);
  fio_block_t *b = fio_block_of(p);
  /* Every build: a pointer that no mapping of the allocator covers has no header to read
   * (the header of a block-aligned big allocation, 64 bytes before it, lies in the same
   * mapping). */
  if (!fio_space_has(p))
    fio_fatal_op(op, "invalid pointer (not allocated by fio_malloc: outside its memory)", p);
#if FIO_CHECKING
  if (fio_check_has(p)) { /* big allocations are registered by their user pointer */
    *big = fio_big_header(p);
    if (!*big) fio_fatal_op(op, "corrupted big allocation header", p);
    return NULL;
  }
  if (off == 0 || !fio_check_has(b))
    fio_fatal_op(op, "invalid pointer (not allocated by fio_malloc, or already freed)", p);
  if (b->magic != fio_cookie(FIO_MAGIC_SMALL, b))
    fio_fatal_op(op, "pointer to a freed object (double free or use after free)", p);
  if (off % FIO_SLICE || off < FIO_BLOCK_HEADER || !fio_bitmap_test(b->live, off))
    fio_fatal_op(op, "pointer is not a live object (double free or interior pointer)", p);
  return b;
#else
  if (off != 0 && b->magic == fio_cookie(FIO_MAGIC_SMALL, b)) {
    if (off % FIO_SLICE || off < FIO_BLOCK_HEADER || !fio_bitmap_test(b->starts, off))
      fio_fatal_op(op, "invalid pointer (not the start of an object)", p);
    return b;
  }
  *big = fio_big_header(p);
  if (*big) return NULL;
  if (off != 0 && b->magic == fio_cookie(FIO_MAGIC_POOLED, b))
    fio_fatal_op(op, "pointer to a freed object (double free or use after free)", p);
  fio_fatal_op(op, "invalid pointer (not allocated by fio_malloc)", p);
#endif
}
