/*
 * lock.h - the allocator's lock: short critical sections only, never held across a
 * system call that may block for long (except the mmap of a new chunk). lock.c.
 */
#ifndef FIO_LOCK_H
#define FIO_LOCK_H

#include "os.h"

/* 0: free, 1: held, 2: held, and threads may be asleep on it (the unlock wakes one). */
typedef struct fio_lock_s {
  _Atomic int locked;
} fio_lock_t;

FIO_INLINE bool fio_lock_try_raw(fio_lock_t *l) {
  int free_state = 0;
  return !atomic_load_explicit(&l->locked, memory_order_relaxed) &&
         atomic_compare_exchange_strong_explicit(&l->locked, &free_state, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}
/** Takes `l`; returns true when it had to wait (a contention event). A waiter spins
 *  briefly, then sleeps in the kernel until the holder lets go. */
FIO_INTERNAL bool fio_lock(fio_lock_t *l);
/** Takes `l` only if free now. */
FIO_INTERNAL bool fio_lock_try(fio_lock_t *l);
FIO_INTERNAL void fio_unlock(fio_lock_t *l);

/** While the calling thread holds every lock for a fork (fork.c), its own lock calls
 *  pass without touching the locks: the thread that forks may still allocate between the
 *  prepare handler and the release. */
FIO_INTERNAL void fio_lock_hold_all(bool held);

#endif /* FIO_LOCK_H */
