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
 * without atomics, in whatever order they come.
 */
#include "internal.h"

#include <errno.h>

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
    if (FIO_SPARSE_LIVE > 0) fio_bitmap_set(b->freed, (size_t)((char *)p - (char *)b));
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

/* Counts the free of the `n`-byte slice `p` of block `b`: in the thread's own block, in
 * a block it owns, in its pending batch, or in a new batch. */
FIO_INLINE void fio_free_count(fio_thread_t *t, fio_block_t *b, void *p, size_t n) {
  fio_free_account(t, p, n);
  if (b == t->cur) {
    if (fio_unlikely(fio_thread_cur_live(t) <= 0))
      fio_fatal_op("fio_free", "double free (more frees than objects in the block)", p);
    ++t->cur_freed;
    size_t off = (size_t)((char *)p - (char *)b);
    if (off + n == fio_thread_pos(t)) {
      fio_free_pop(t, b, off, n);
      return;
    }
    fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - n);
    if (fio_thread_cur_live(t) == 0) {
      fio_free_rewind(t, b);
      return;
    }
    /* Recorded as in a block the thread owns: once the block is retired with survivors,
     * this hole can be sliced again (fio_pool_reopen). */
    if (FIO_SPARSE_LIVE > 0) fio_bitmap_set(b->freed, off);
    return;
  }
  fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - n);
  if (fio_likely(atomic_load_explicit(&b->owner, memory_order_relaxed) == t->id)) {
    /* A block this thread sliced and took back: only it writes this count and the
     * freed bitmap, which lets it slice the holes again once few objects are left. */
    int64_t left = b->owner_live - 1;
    b->owner_live = left;
    if (FIO_SPARSE_LIVE > 0) fio_bitmap_set(b->freed, (size_t)((char *)p - (char *)b));
    if (fio_unlikely(left <= FIO_SPARSE_LIVE)) fio_pool_owned_low(t, b, left);
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
  /* NULL, big allocations (block offset 0 or a header that is not a small block's) and
   * anything else take the classifying path. */
  size_t off = (uintptr_t)ptr & (FIO_BLOCK_SIZE - 1);
  fio_block_t *b = fio_block_of(ptr);
  /* A pointer outside every mapping of the allocator is reported before its header
   * would be read (fio_classify). */
  if (fio_unlikely(off == 0 || !fio_space_has(ptr) || b->magic != fio_cookie(FIO_MAGIC_SMALL, b))) {
    fio_free_other(ptr);
    return;
  }
  /* The bitmap from the slice's bit on, 64 bits wide, read from two words with one funnel
   * shift (the spare last word makes word wi + 1 always exist): bit 0 is the check (a slice
   * starts here; no bit is ever set inside the header), the next set bit is the slice's
   * end. No branch depends on whether the slice crosses a word. A slice of 64 units or
   * more, a misaligned or interior pointer take the checked path, which reports bad ones. */
  size_t i = off / FIO_SLICE, wi = i / 64;
  unsigned sh = (unsigned)(i % 64);
  uint64_t w0 = atomic_load_explicit(&b->starts[wi], memory_order_relaxed);
  uint64_t w1 = atomic_load_explicit(&b->starts[wi + 1], memory_order_relaxed);
  uint64_t x = (uint64_t)((((unsigned __int128)w1 << 64) | w0) >> sh); /* one shrd */
  uint64_t end = x & ~1ULL; /* its lowest set bit is the slice's end */
  if (fio_unlikely(!(x & 1)) || fio_unlikely(off % FIO_SLICE) || fio_unlikely(!end)) {
    fio_small_free(b, ptr);
    return;
  }
  fio_free_count(t, b, ptr, (size_t)__builtin_ctzll(end) * FIO_SLICE);
#endif
}
