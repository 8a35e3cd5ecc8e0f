/*
 * free.c - freeing: the owner's path, other threads' batched path, and the checks.
 *
 * A free into the block the calling thread is slicing only decrements a thread-local
 * count; when that reaches zero the block is rewound and sliced again from its start.
 * A free into any other block is counted in a per-thread batch for that block; the
 * batch is subtracted from the block's atomic count with one read-modify-write when a
 * free hits another block, when the thread takes a new block, or when it exits. A group
 * of objects freed together thus costs one atomic operation per block, not per object.
 * A block the freeing thread sliced itself is taken back at its first free there (one
 * compare-and-swap): from then on that thread counts its frees into it in the header,
 * without atomics, in whatever order they come. Frees into the blocks the thread knows
 * (the one it slices, the ones it owns) skip the classification of the pointer.
 */
#include "internal.h"

#include <errno.h>

/* A second free of the slice at `off` of `b`. Not declared noreturn, so that the fast
 * paths reach it with a jump rather than set up a frame for a call. */
static FIO_COLD __attribute__((noipa)) void fio_free_twice(fio_block_t *b, size_t off) {
  fio_fatal_op("fio_free", "double free (object already freed)", (char *)b + off);
}

/* Records the free of the slice at `off` of `b` in its freed bitmap (only the thread that
 * slices or owns `b` writes it). False when the bit was set already: a second free of the
 * slice, which would otherwise count another object's free and recycle the block under a
 * live one (the caller reports it, fio_free_twice). */
FIO_INLINE bool fio_free_mark(fio_block_t *b, size_t off) {
  size_t i = off / FIO_SLICE;
  _Atomic uint64_t *w = &b->freed[i / 64];
  uint64_t bits = atomic_load_explicit(w, memory_order_relaxed);
  uint64_t with = bits | (1ULL << (i % 64)); /* one bts */
  if (fio_unlikely(with == bits)) return false;
  atomic_store_explicit(w, with, memory_order_relaxed);
  return true;
}

/* Starts a batch for block `b`, settling the previous one. */
static FIO_NOINLINE void fio_free_new_batch(fio_thread_t *t, fio_block_t *b, void *p) {
  if (fio_unlikely(t->state == FIO_THREAD_EXITED)) {
    /* Nothing would settle a batch any more: settle this free now, without registering
     * the exiting thread again (its TLS dies with it, unregistered). */
    t->pending = b;
    t->pending_n = 1;
    fio_pool_flush_pending(t);
    return;
  }
  if (fio_unlikely(t->state != FIO_THREAD_ACTIVE)) {
    /* A thread that only frees must still settle its batch when it exits. */
    int saved = errno;
    fio_thread_init(t);
    errno = saved;
  }
#if FIO_OWNED_BLOCKS > 0
  /* The block this free hits was sliced by this thread: take it back rather than batch. */
  if (atomic_load_explicit(&b->sliced_by, memory_order_relaxed) == t->id) {
    size_t off = (size_t)((char *)p - (char *)b);
    if (!fio_free_mark(b, off)) {
      fio_free_twice(b, off);
      return;
    }
    fio_pool_own(t, b);
    return;
  }
#endif
  fio_pool_flush_pending(t);
  t->pending = b;
  t->pending_n = 1;
  if (atomic_load_explicit(&b->refs, memory_order_relaxed) == 1) fio_pool_flush_pending(t);
}

/* The owner freed the last object of the block it slices: start it over. */
static FIO_NOINLINE void fio_free_rewind(fio_thread_t *t, fio_block_t *b) {
  /* The holes of a sparse block lay between slices sliced before: all of them go, and
   * their bytes are old. */
  size_t end = t->holes_end ? FIO_BLOCK_SIZE : fio_thread_pos(t);
  fio_thread_mark_dirty(t, end);
  t->holes_end = 0;
  t->limit = FIO_BLOCK_SIZE;
  fio_block_rewind(b, FIO_BLOCK_HEADER, end);
  fio_thread_move_pos(t, FIO_BLOCK_HEADER);
  fio_thread_restart_cur(t);
  t->newest = NULL;
  t->zero_asks = 0;
}

/* The owner freed the last slice of the block it slices: the space goes back to the
 * unsliced part (an alloc/free pair, or frees in reverse order, reuse the same bytes).
 * Moving the bump position back counts the `n` bytes freed. Nothing is zeroed: the bytes
 * are marked old, and only a zero-asking allocation that receives them zeroes them. */
FIO_INLINE void fio_free_pop(fio_thread_t *t, fio_block_t *b, size_t off, size_t n) {
  /* The mark at `off` is the new end of the used part. The one at its end goes, unless a
   * live object starts there (the end of a hole of a sparse block). */
  if (fio_likely(off + n != t->limit) || t->limit == FIO_BLOCK_SIZE)
    fio_bitmap_clear(b->starts, off + n);
  fio_thread_mark_dirty(t, off + n);
  fio_thread_set_pos(t, off);
  t->newest = NULL; /* the slice before it is the newest now; where it starts is not kept */
}

/* What every free of an `n`-byte slice `p` does first: poison it, count the free. Its
 * bytes are counted by the caller, or by the bump position moving back (fio_free_pop). */
FIO_INLINE void fio_free_account(fio_thread_t *t, void *p, size_t n) {
  fio_asan_poison(p, n);
  fio_counter_add(&t->stats.frees, 1);
}

/* A free into block `b`, which this thread sliced and took back: only it writes this count
 * and the freed bitmap, which lets it slice the holes again once few objects are left. */
FIO_INLINE void fio_free_owned(fio_thread_t *t, fio_block_t *b, size_t off) {
  if (fio_unlikely(!fio_free_mark(b, off))) {
    fio_free_twice(b, off);
    return;
  }
  int64_t left = b->owner_live - 1;
  b->owner_live = left;
  if (fio_unlikely(left <= b->low_mark)) fio_pool_owned_low(t, b, left);
}

/* More frees than objects in the block the thread slices. Not declared noreturn, so that
 * the fast paths reach it with a jump rather than set up a frame for a call. */
static FIO_COLD __attribute__((noipa)) void fio_free_too_many(void *p) {
  fio_fatal_op("fio_free", "double free (more frees than objects in the block)", p);
}

/* A free of the `n`-byte slice `p` of `cur`, the block the thread slices (already counted
 * by fio_free_account). */
FIO_INLINE void fio_free_in_cur(fio_thread_t *t, fio_block_t *b, void *p, size_t n) {
  if (fio_unlikely(fio_thread_cur_live(t) <= 0)) {
    fio_free_too_many(p);
    return;
  }
  ++t->cur_freed;
  size_t off = (size_t)((char *)p - (char *)b);
  if (off + n == fio_thread_pos(t)) {
    fio_free_pop(t, b, off, n);
    return;
  }
  fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - n);
  /* Recorded as in a block the thread owns: once the block is retired with survivors,
   * this hole can be sliced again (fio_pool_reopen). A second free is caught here,
   * before it could count as the block's last. */
  if (fio_unlikely(!fio_free_mark(b, off)))
    fio_free_twice(b, off);
  else if (fio_thread_cur_live(t) == 0)
    fio_free_rewind(t, b);
}

/* Counts the free of the `n`-byte slice `p` of block `b`: in the thread's own block, in
 * a block it owns, in its pending batch, or in a new batch. */
FIO_INLINE void fio_free_count(fio_thread_t *t, fio_block_t *b, void *p, size_t n) {
  fio_free_account(t, p, n);
  if (b == t->cur) {
    fio_free_in_cur(t, b, p, n);
    return;
  }
  fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - n);
  if (fio_likely(atomic_load_explicit(&b->owner, memory_order_relaxed) == t->id)) {
    fio_thread_know_owned(t, b);
    fio_free_owned(t, b, (size_t)((char *)p - (char *)b));
    return;
  }
  if (fio_likely(b == t->pending)) {
    /* When the batch holds every reference left, settle it now so the block is
     * recycled at its last free (a load of a line only settling threads write). */
    if (++t->pending_n == atomic_load_explicit(&b->refs, memory_order_relaxed))
      fio_pool_flush_pending(t);
    return;
  }
  fio_free_new_batch(t, b, p);
}

/* Bits [s, s + 64) of the 128-bit `hi:lo`, where s is `sh` modulo 64: one `shrd` on
 * x86-64, which takes the count modulo 64 itself (the compiler's 128-bit shift adds a
 * test and a move for counts it cannot bound). */
FIO_INLINE uint64_t fio_funnel_shift(uint64_t lo, uint64_t hi, unsigned sh) {
#if defined(__x86_64__)
  __asm__("shrdq %%cl, %1, %0" : "+r"(lo) : "r"(hi), "c"(sh) : "cc");
  return lo;
#else
  sh %= 64;
  return (lo >> sh) | ((hi << 1) << (63 - sh));
#endif
}

/* The size of the slice `p` of small block `b`, or 0 when the checked path must decide.
 * The bitmap from the slice's bit on, 64 bits wide, read from two words with one funnel
 * shift (the spare last word makes the second word always exist): bit 0 is the check (a
 * slice starts here; no bit is ever set inside the header), the next set bit is the
 * slice's end. No branch depends on whether the slice crosses a word. A slice of 128 units
 * or more, a misaligned or interior pointer take the checked path, which reports bad ones.
 * The word's byte offset and the shift come straight from the pointer's bits. */
FIO_INLINE size_t fio_free_slice_size(fio_block_t *b, void *p) {
  uintptr_t a = (uintptr_t)p;
  if (fio_unlikely(a % FIO_SLICE)) return 0;
  const _Atomic uint64_t *w = b->starts + (a & (FIO_BLOCK_SIZE - 1)) / (FIO_SLICE * 64);
  uint64_t x = fio_funnel_shift(atomic_load_explicit(&w[0], memory_order_relaxed),
                                atomic_load_explicit(&w[1], memory_order_relaxed),
                                (unsigned)(a / FIO_SLICE));
  if (fio_unlikely(!(x & 1))) return 0;
  uint64_t end = x & ~1ULL; /* its lowest set bit is the slice's end */
  if (fio_likely(end != 0)) {
    size_t n = (size_t)__builtin_ctzll(end) * FIO_SLICE;
    if (n == 0) __builtin_unreachable(); /* bit 0 of `end` is clear */
    return n;
  }
  /* 64 units (1 KiB) or more: the end lies in the next 64 bits, unless the slice is larger
   * still or starts in the last word (its end would be past the block). */
  if (w + 2 >= b->starts + FIO_BITMAP_WORDS) return 0;
  end = fio_funnel_shift(atomic_load_explicit(&w[1], memory_order_relaxed),
                         atomic_load_explicit(&w[2], memory_order_relaxed),
                         (unsigned)(a / FIO_SLICE));
  return end ? (64 + (size_t)__builtin_ctzll(end)) * FIO_SLICE : 0;
}

/* A free into `b`, a block this thread owns (its hint or its table says so). */
FIO_INLINE void fio_free_known_owned(fio_thread_t *t, fio_block_t *b, void *p) {
  size_t n = fio_free_slice_size(b, p);
  if (fio_unlikely(!n)) {
    fio_small_free(b, p);
    return;
  }
  fio_free_account(t, p, n);
  fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - n);
  fio_free_owned(t, b, (uintptr_t)p & (FIO_BLOCK_SIZE - 1));
}

/* The checked free of a small object: the slice must start at `p` (and, in checking
 * builds, be live); its size may need a scan past the first bitmap word. */
void fio_small_free(fio_block_t *b, void *p) {
  size_t off = (size_t)((char *)p - (char *)b);
  if (fio_unlikely(off % FIO_SLICE || off < FIO_BLOCK_HEADER || !fio_bitmap_test(b->starts, off)))
    fio_fatal_op("fio_free", "invalid pointer (not the start of an object)", p);
#if FIO_CHECKING
  size_t i = off / FIO_SLICE;
  uint64_t bit = 1ULL << (i % 64);
  if (!(atomic_fetch_and_explicit(&b->live[i / 64], ~bit, memory_order_relaxed) & bit))
    fio_fatal_op("fio_free", "double free (object is not live)", p);
#endif
  fio_free_count(&fio_thread, b, p, fio_block_slice_size(b, off));
}

static FIO_NOINLINE void fio_free_other(void *p) {
  if (!p) return;
  fio_big_t *big;
  fio_block_t *b = fio_classify(p, &big, "fio_free");
  if (big)
    fio_big_free(big);
  else
    fio_small_free(b, p);
}

FIO_HOT_ENTRY void fio_free(void *ptr) {
#if FIO_CHECKING
  fio_free_other(ptr);
#else
  fio_thread_t *t = &fio_thread;
  if (ptr == t->newest && ptr) {
    /* The newest slice of this thread's block (an alloc/free pair): known live (a second
     * free finds `newest` cleared), in `cur`, and ending at the bump position, so neither
     * the header nor the bitmap need be read, and its bytes go straight back. */
    fio_block_t *cur = t->cur;
    size_t off = (size_t)((char *)ptr - (char *)cur), n = fio_thread_pos(t) - off;
    fio_free_account(t, ptr, n);
    ++t->cur_freed;
    fio_free_pop(t, cur, off, n);
    return;
  }
  fio_block_t *b = fio_block_of(ptr);
  /* `b` is NULL for NULL and for the first block of the address space, which holds no
   * block of this allocator; `owned_hint`, `cur` and the table's slots may be NULL. */
  if (fio_likely(b != NULL)) {
    if (b == t->owned_hint) {
      /* A block this thread owns (a group freed in the order it was allocated lands in
       * one such block after another): it is a small block of this allocator, so neither
       * the address space nor the header need be checked; the slice's mark still must. */
      fio_free_known_owned(t, b, ptr);
      return;
    }
    if (b == t->cur) { /* the block this thread slices: as well known */
      size_t n = fio_free_slice_size(b, ptr);
      if (fio_unlikely(!n)) {
        fio_small_free(b, ptr);
        return;
      }
      fio_free_account(t, ptr, n);
      fio_free_in_cur(t, b, ptr, n);
      return;
    }
    if (b == *fio_thread_known_slot(t, b)) { /* another block it owns */
      fio_free_known_owned(t, b, ptr);
      return;
    }
  }
  /* NULL, big allocations (block offset 0 or a header that is not a small block's) and
   * anything else take the classifying path. A pointer outside every mapping of the
   * allocator is reported before its header would be read (fio_classify). */
  if (fio_unlikely(((uintptr_t)ptr & (FIO_BLOCK_SIZE - 1)) == 0 || !fio_space_has(ptr) ||
                   b->magic != fio_cookie(FIO_MAGIC_SMALL, b))) {
    fio_free_other(ptr);
    return;
  }
  size_t n = fio_free_slice_size(b, ptr);
  if (fio_unlikely(!n)) {
    fio_small_free(b, ptr);
    return;
  }
  fio_free_count(t, b, ptr, n);
#endif
}
