/*
 * mid.h - the middle tier: runs of whole blocks from large chunks for requests above
 * the big limit up to FIO_MID_MAX (mid.c). A run carries a big allocation's header.
 */
#ifndef FIO_MID_H
#define FIO_MID_H

#include "pool.h"

/** Header of an allocation mapped directly. It sits at the start of the mapping when the
 *  user pointer is inside the first block, or just before a block-aligned user pointer. */
typedef struct fio_big_s {
  uint64_t magic; /* FIO_MAGIC_BIG mixed with the header's address */
  void *map_base; /* the mapping (a run: its first block), page aligned */
  size_t map_len;
  void *user; /* the pointer handed out */
  size_t alignment;
  uint64_t kind; /* FIO_BIG_MAPPING or FIO_BIG_RUN */
  uint64_t reserved[2];
} fio_big_t;
enum { FIO_BIG_MAPPING = 0, FIO_BIG_RUN = 1 }; /* a mapping of its own, a middle-tier run */
_Static_assert(sizeof(fio_big_t) == 64, "big header: 64 bytes");

/* The middle tier (mid.c). Lengths are whole blocks; a run's first block is block aligned. */
/** A run of `len` bytes from the calling thread's heap; `*old`: some of it may hold old
 *  bytes (else it reads zero). NULL when no chunk could be mapped. */
FIO_INTERNAL void *fio_mid_take(size_t len, bool *old);
/** Gives the run [base, base + len) back to the heap of its chunk. */
FIO_INTERNAL void fio_mid_give(void *base, size_t len);
/** Resizes a run in place to `new_len`: a shrink always succeeds; a growth only when the
 *  blocks after it are in no run (`*old`: the added ones may hold old bytes). */
FIO_INTERNAL bool fio_mid_resize(void *base, size_t len, size_t new_len, bool *old);
/** Unmaps every chunk that holds no run (a mapping failed); true if any went back. */
FIO_INTERNAL bool fio_mid_release_idle(void);
/** Gives the runs thread `t` keeps back to their heaps (its exit, a failed mapping). */
FIO_INTERNAL void fio_mid_cache_flush(fio_thread_t *t);
/** The heaps' locks (fork). */
FIO_INTERNAL void fio_mid_lock_all(void);
FIO_INTERNAL void fio_mid_unlock_all(void);
FIO_INTERNAL void fio_mid_reset_locks(void);

#endif /* FIO_MID_H */
