/*
 * thread.h - per-thread state: the block being sliced, the thread's counters, caches and
 * lists, the registry of live threads (thread.c).
 */
#ifndef FIO_THREAD_H
#define FIO_THREAD_H

#include "block.h"

/** Counters of one thread, written only by it. Signed quantities wrap; sums are right. */
typedef struct fio_thread_stats_s {
  fio_counter_t allocations;
  fio_counter_t frees;
  fio_counter_t live_bytes;
  fio_counter_t blocks_opened;   /* blocks this thread started slicing */
  fio_counter_t blocks_recycled; /* blocks whose last reference this thread dropped */
  fio_counter_t blocks_released; /* blocks this thread gave back to the system */
  fio_counter_t big_allocations; /* live big allocations (+1 alloc, -1 free) */
  fio_counter_t big_bytes;
  fio_counter_t contention;
} fio_thread_stats_t;

/* EXITED: past the thread's exit destructor. glibc still frees from an exiting thread
 * after that (a detached thread trims the stack cache, freeing other threads' TLS
 * vectors): those frees must neither batch nor register the dying thread again. */
enum { FIO_THREAD_NONE = 0, FIO_THREAD_ACTIVE = 1, FIO_THREAD_EXITED = 2 };

typedef struct fio_thread_s {
  /* Hot: the malloc and free fast paths touch only these. */
  fio_block_t *cur;         /* block this thread slices; NULL when none */
  _Atomic uint32_t pos;     /* bump offset in `cur`; FIO_BLOCK_SIZE when there is no block */
  uint32_t limit;           /* end of the space being sliced: FIO_BLOCK_SIZE, or the end of a
                               hole of a sparse block */
  uint32_t dirty_to;        /* bytes of `cur` in [pos, dirty_to) may hold old data; every
                               byte at or past max(pos, dirty_to) reads zero */
  char *newest;             /* the newest slice of `cur`, still live; NULL when not known */
  fio_block_t *owned_hint;  /* a block this thread owns (the last it freed into), so that
                               frees into it skip the classification; NULL when none */
  fio_counter_t cur_sliced; /* objects sliced from `cur` since it was opened or rewound */
  int64_t cur_freed;        /* how many of them this thread freed */
  fio_block_t *pending;     /* block of the last free into a block this thread does not slice */
  int64_t pending_n;        /* frees into `pending` not yet subtracted from its count */
  uint64_t id;              /* unique per registration; marks the blocks this thread owns */
  uint32_t zero_asks;       /* zero-asking slices of `cur` that found old bytes */
  /* Not counted per call: a thread's allocations are `stats.allocations + cur_sliced`,
   * its live bytes `stats.live_bytes + pos` (see fio_thread_move_pos). */
  fio_thread_stats_t stats;
  /* Cold. */
  fio_block_t *owned;        /* retired blocks it owns, newest first (linked by next) */
  fio_block_t *owned_oldest; /* the list's tail (linked by prev) */
  uint32_t owned_n;
  fio_block_t *sparse;        /* owned blocks whose holes may be worth slicing, newest
                                 first (linked through their headers) */
  fio_block_t *sparse_oldest; /* the other end, looked at first: it had the longest time
                                 to lose objects */
  /* Blocks this thread owns, by their address (fio_thread_known_slot): frees that hit
   * owned blocks at random skip the classification too. Entries are NULL or owned. */
  fio_block_t *owned_known[FIO_OWNED_KNOWN];
  uint32_t holes_end; /* slicing the holes of a sparse block: where its slices
                         ended when it was taken again (0: not) */
  struct {
    void *base;
    size_t len;
  } mid_cache[FIO_MID_CACHE_SLOTS]; /* freed middle-tier runs, still marked used (mid.c) */
  uint32_t mid_cache_n;
  fio_block_t *cache;            /* recycled blocks kept by this thread */
  _Atomic uint32_t cache_n;      /* written by the owner only; read by snapshots */
  uint32_t arena;                /* home shard of the shared pool */
  uint32_t state;                /* FIO_THREAD_NONE / _ACTIVE / _EXITED */
  struct fio_thread_s *reg_next; /* registry of live threads (stats, fork) */
  struct fio_thread_s *reg_prev;
} fio_thread_t;

extern FIO_TLS fio_thread_t fio_thread;

/** The slot of `owned_known` that may hold block `b`. */
FIO_INLINE fio_block_t **fio_thread_known_slot(fio_thread_t *t, const void *b) {
  return &t->owned_known[((uintptr_t)b / FIO_BLOCK_SIZE) % FIO_OWNED_KNOWN];
}
/** The thread owns `b` (it took it back, or a free found it owned): its frees there skip
 *  the classification, first through the hint, else through the table. */
FIO_INLINE void fio_thread_know_owned(fio_thread_t *t, fio_block_t *b) {
  t->owned_hint = b;
  *fio_thread_known_slot(t, b) = b;
}
/** The thread gives `b` up: neither the hint nor the table may name it any more. */
FIO_INLINE void fio_thread_forget_owned(fio_thread_t *t, fio_block_t *b) {
  if (t->owned_hint == b) t->owned_hint = NULL;
  fio_block_t **known = fio_thread_known_slot(t, b);
  if (*known == b) *known = NULL;
}

/* The bump position. Slicing moves it forward by the bytes handed out and the free of the
 * last slice moves it back by the bytes freed, so the thread's live bytes are its counter
 * plus `pos`, and the fast paths count no bytes. Only the owner writes it; a snapshot
 * reads it. */
FIO_INLINE size_t fio_thread_pos(fio_thread_t *t) {
  return atomic_load_explicit(&t->pos, memory_order_relaxed);
}
FIO_INLINE void fio_thread_set_pos(fio_thread_t *t, size_t pos) {
  atomic_store_explicit(&t->pos, (uint32_t)pos, memory_order_relaxed);
}
/** Moves the bump position without allocating or freeing (a block taken, retired or
 *  rewound; alignment padding): the counter takes the difference. */
FIO_INLINE void fio_thread_move_pos(fio_thread_t *t, size_t pos) {
  fio_counter_add(&t->stats.live_bytes, (uint64_t)fio_thread_pos(t) - pos);
  fio_thread_set_pos(t, pos);
}
/** Bytes of `cur` below `end` were handed out and may have been written: the bump position
 *  moves back over them (a freed last slice, a rewind, a retire). */
FIO_INLINE void fio_thread_mark_dirty(fio_thread_t *t, size_t end) {
  if (t->dirty_to < end) t->dirty_to = (uint32_t)end;
}
/** Objects `cur` holds that this thread has not freed. */
FIO_INLINE int64_t fio_thread_cur_live(fio_thread_t *t) {
  return (int64_t)fio_counter_get(&t->cur_sliced) - t->cur_freed;
}
/** `cur` starts over (a block taken, retired or rewound): its slices join the counter. */
FIO_INLINE void fio_thread_restart_cur(fio_thread_t *t) {
  fio_counter_add(&t->stats.allocations, fio_counter_get(&t->cur_sliced));
  atomic_store_explicit(&t->cur_sliced, 0, memory_order_relaxed);
  t->cur_freed = 0;
}

/** The thread starts slicing block `b` at `pos`, up to `limit` (the block's end, or the
 *  end of a sparse block's first hole; `holes_end`: where that block's old slices end, 0
 *  for any other block). `live`: objects already in it (a sparse block's survivors, which
 *  join its count but are no new allocations). `dirty_to`: bytes at or past it read zero. */
FIO_INLINE void fio_thread_start_block(fio_thread_t *t, fio_block_t *b, size_t pos, size_t limit,
                                       size_t holes_end, int64_t live, uint32_t dirty_to) {
  t->cur = b;
  fio_thread_move_pos(t, pos);
  fio_thread_restart_cur(t);
  atomic_store_explicit(&t->cur_sliced, (uint64_t)live, memory_order_relaxed);
  fio_counter_add(&t->stats.allocations, (uint64_t)0 - (uint64_t)live);
  t->limit = (uint32_t)limit;
  t->holes_end = (uint32_t)holes_end;
  t->newest = NULL;
  t->dirty_to = dirty_to;
  t->zero_asks = 0;
}
/** Slicing leaves the hole it is in: what is left of it (from the bump position's mark up
 *  to the survivor that ends it) is recorded as freed, so that a later search of the
 *  block's holes finds it again, joined to the freed slices around it. */
FIO_INLINE void fio_thread_leave_hole(fio_thread_t *t) {
  size_t pos = fio_thread_pos(t);
  if (t->holes_end && pos < t->limit && t->limit < FIO_BLOCK_SIZE)
    fio_bitmap_set(t->cur->freed, pos);
}
/** Slicing moves on to the hole [at, to) of the sparse block being sliced. */
FIO_INLINE void fio_thread_move_to_hole(fio_thread_t *t, size_t at, size_t to) {
  fio_thread_leave_hole(t);
  fio_thread_mark_dirty(t, FIO_BLOCK_SIZE); /* freed slices: old bytes anywhere */
  fio_thread_move_pos(t, at);
  t->limit = (uint32_t)to;
  t->newest = NULL;
}
/** The thread stops slicing its block: returns the objects of it still live by its count,
 *  and records in the block which of its bytes may be old. The thread then has no block
 *  (the fast path's room check fails until it takes one). */
FIO_INLINE int64_t fio_thread_stop_block(fio_thread_t *t) {
  fio_block_t *b = t->cur;
  int64_t live = fio_thread_cur_live(t);
  fio_thread_leave_hole(t);
  /* A sparse block's holes and old slices lie anywhere in it. */
  fio_thread_mark_dirty(t, t->holes_end ? FIO_BLOCK_SIZE : fio_thread_pos(t));
  b->dirty_to = t->dirty_to;
  t->dirty_to = 0;
  t->cur = NULL;
  t->limit = FIO_BLOCK_SIZE;
  t->holes_end = 0;
  fio_thread_move_pos(t, FIO_BLOCK_SIZE);
  fio_thread_restart_cur(t);
  t->newest = NULL;
  return live;
}

/** Hands a thread's memory back at its exit; then calls fio_thread_unregister. */
typedef void (*fio_thread_exit_fn)(fio_thread_t *t);
/** Creates the key whose destructor calls `on_exit` for each thread that exits (process
 *  init). */
FIO_INTERNAL void fio_thread_key_init(fio_thread_exit_fn on_exit);
/** Registers the calling thread (first allocator call on it). */
FIO_INTERNAL void fio_thread_init(fio_thread_t *t);
/** Takes the exiting thread `t` (state FIO_THREAD_EXITED, its memory handed back) out of
 *  the registry, its counts into the totals of exited threads. */
FIO_INTERNAL void fio_thread_unregister(fio_thread_t *t);
/** Registry lock and the totals of threads that exited (stats.c reads them). */
FIO_INTERNAL void fio_registry_lock(void);
FIO_INTERNAL void fio_registry_unlock(void);
FIO_INTERNAL fio_thread_t *fio_registry_first(void);
FIO_INTERNAL fio_thread_stats_t *fio_registry_exited(void);
/** Thread `t`'s counts, the ones kept in its bump position and slice count included. */
FIO_INTERNAL void fio_thread_stats_read(fio_thread_t *t, fio_thread_stats_t *out);
/** Force the registry lock free (a child after fork; no other thread exists). */
FIO_INTERNAL void fio_registry_reset_lock(void);
/** In a fork child: forget every thread but the caller (their state is left behind). */
FIO_INTERNAL void fio_registry_after_fork(fio_thread_t *self);

#endif /* FIO_THREAD_H */
