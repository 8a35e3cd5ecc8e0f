/*
 * lock.c - the allocator's lock: a compare-and-swap to take it, a short spin, then a
 * sleep in the kernel (fio_os_wait) for a holder that was preempted.
 */
#include "lock.h"

/* Set while this thread holds every lock for a fork (fork.c). */
static FIO_TLS bool fio_lock_all_held;

void fio_lock_hold_all(bool held) {
  fio_lock_all_held = held;
}

bool fio_lock(fio_lock_t *l) {
  if (fio_unlikely(fio_lock_all_held)) return false;
  if (fio_lock_try_raw(l)) return false;
  for (int i = 0; i < 128; ++i) {
    __builtin_ia32_pause();
    if (fio_lock_try_raw(l)) return true;
  }
  /* The holder may have been preempted (more threads than CPUs): sleep rather than spin
   * and yield for its whole time slice. Marking the lock 2 makes its unlock wake a
   * sleeper; a thread that takes it this way keeps the mark, in case others sleep too. */
  while (atomic_exchange_explicit(&l->locked, 2, memory_order_acquire) != 0)
    fio_os_wait(&l->locked, 2);
  return true;
}

bool fio_lock_try(fio_lock_t *l) {
  return fio_unlikely(fio_lock_all_held) || fio_lock_try_raw(l);
}

void fio_unlock(fio_lock_t *l) {
  if (fio_unlikely(fio_lock_all_held)) return;
  if (atomic_exchange_explicit(&l->locked, 0, memory_order_release) == 2) fio_os_wake(&l->locked);
}
