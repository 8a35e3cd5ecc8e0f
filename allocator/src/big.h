/*
 * big.h - big allocations: a middle-tier run when one fits, else a mapping of their
 * own, a cache of freed mappings, and giving idle memory back when a mapping fails
 * (big.c).
 */
#ifndef FIO_BIG_H
#define FIO_BIG_H

#include "mid.h"

/** What a big allocation must read as zero: nothing (the `_uninit` calls), its whole
 *  usable size (the fio API: a later resize within it reads zero too), or the bytes asked
 *  for (C `calloc`: past them the usable bytes are indeterminate). Fresh pages read zero
 *  anyway; reused memory is zeroed accordingly. */
enum { FIO_ZERO_NONE = 0, FIO_ZERO_USABLE = 1, FIO_ZERO_SIZE = 2 };
/** Allocates `size` bytes above the small limit, aligned to `alignment` (>= 16): a
 *  middle-tier run when it fits one, else a mapping of its own, zeroed as `zero` says
 *  (FIO_ZERO_*; `true` is FIO_ZERO_USABLE). */
FIO_INTERNAL void *fio_big_alloc(size_t size, size_t alignment, int zero);
/** The same, always a mapping of its own (fio_mmap: long-lived memory pins no chunk). */
FIO_INTERNAL void *fio_big_map(size_t size, size_t alignment, int zero);
/** The big header of `p`, or NULL if `p` is not a big allocation's pointer. */
FIO_INTERNAL fio_big_t *fio_big_header(const void *p);
FIO_INTERNAL size_t fio_big_usable(const fio_big_t *h);
FIO_INTERNAL void fio_big_free(fio_big_t *h);
/** Resizes in place or moves keeping the classification; NULL (ENOMEM) on failure. With
 *  `zero`, every byte past the first `copy` reads zero. */
FIO_INTERNAL void *fio_big_realloc(fio_big_t *h, size_t new_size, size_t copy, bool zero);
/** Unmaps every cached big mapping; true if there was any (fio_release_idle). */
FIO_INTERNAL bool fio_big_cache_flush(void);

/** The lock of the cache of freed big mappings (fork). */
FIO_INTERNAL void fio_big_cache_lock(void);
FIO_INTERNAL void fio_big_cache_unlock(void);
FIO_INTERNAL void fio_big_cache_reset_lock(void);

/** A mapping failed: gives the memory held idle back to the system (the cached big
 *  mappings, the middle tier's empty chunks and the calling thread's kept runs, every
 *  block the shared pool holds), so that it may serve the retry. No lock of the
 *  allocator may be held. Returns true if any went back. */
FIO_INTERNAL bool fio_release_idle(void);

#endif /* FIO_BIG_H */
