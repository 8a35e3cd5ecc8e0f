/*
 * pool.h - where blocks come from and where they go back: the thread's cache, the
 * shards of the shared pool, chunks mapped from the system (pool.c).
 */
#ifndef FIO_POOL_H
#define FIO_POOL_H

#include "thread.h"

/** Gives the thread a block to slice: one of its sparse blocks with a hole of at least
 *  `need` bytes (0: none of those), else from its cache, the shared pool, a chunk, the
 *  system. Returns false with errno = ENOMEM when the system has no memory. */
FIO_INTERNAL bool fio_pool_take(fio_thread_t *t, size_t need);
/** `cur` is a sparse block: the next hole of at least `n` bytes after the current one
 *  becomes the space being sliced. False when none is left (the caller retires it). */
FIO_INTERNAL bool fio_pool_next_hole(fio_thread_t *t, size_t n);
/** The owner's count of `b` fell to its low mark: remember it as sparse (its holes are
 *  looked at when the thread next needs a block). */
FIO_INTERNAL void fio_pool_note_sparse(fio_thread_t *t, fio_block_t *b);
/** The thread stops slicing its block; recycles it when nothing in it lives. */
FIO_INTERNAL void fio_pool_retire(fio_thread_t *t);
/** A block's count reached zero: keep it in `t`'s cache (only if `t` sliced it), the shared
 *  pool or release it. */
FIO_INTERNAL void fio_pool_recycle(fio_thread_t *t, fio_block_t *b, bool sliced_here);
/** Subtracts the thread's batched frees from their block. */
FIO_INTERNAL void fio_pool_flush_pending(fio_thread_t *t);
/** The thread that retired `b` frees into it: it owns the block from now on. */
FIO_INTERNAL void fio_pool_own(fio_thread_t *t, fio_block_t *b);
/** The owner's count of block `b` fell to `left`, at or below its low mark: the block is
 *  sparse, or empty (fio_pool_owned_empty). */
FIO_INTERNAL void fio_pool_owned_low(fio_thread_t *t, fio_block_t *b, int64_t left);
/** The owner's count of block `b` fell to zero or below (its last object, or a double free). */
FIO_INTERNAL void fio_pool_owned_empty(fio_thread_t *t, fio_block_t *b);
/** Hands every block the thread owns over to the shared count (thread exit). */
FIO_INTERNAL void fio_pool_disown_all(fio_thread_t *t);
/** Moves the thread's cached blocks to the shared pool (thread exit). */
FIO_INTERNAL void fio_pool_drain_cache(fio_thread_t *t);
/** Gives every block the shared pool holds back to the system (a mapping failed; none of
 *  the pool's locks may be held). Returns true if any went back. */
FIO_INTERNAL bool fio_pool_release_idle(void);
/** Blocks in the shared pool (statistics). */
FIO_INTERNAL uint64_t fio_pool_count(void);
/** Locks of every shard, in a fixed order (fork). */
FIO_INTERNAL void fio_pool_lock_all(void);
FIO_INTERNAL void fio_pool_unlock_all(void);
/** Force every shard lock free (a child after fork). */
FIO_INTERNAL void fio_pool_reset_locks(void);

/** Bytes mapped from the system now (chunks and big allocations). */
extern FIO_INTERNAL _Atomic uint64_t fio_mapped_bytes;

#endif /* FIO_POOL_H */
