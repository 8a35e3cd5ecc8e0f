/*
 * fork.c - keeping the allocator consistent across fork.
 *
 * The prepare handler takes every lock of the allocator (so no other thread is inside a
 * critical section when the address space is copied); the parent and the child release
 * them. The thread that forks may still allocate between prepare and release (other
 * prepare handlers do): while it holds the locks for the fork, its own lock calls pass.
 * In the child the other threads are gone: their registry entries are dropped.
 */
#include "internal.h"

#include <pthread.h>

static void fio_fork_prepare(void) {
  fio_registry_lock();
  fio_pool_lock_all();
  fio_mid_lock_all();
  fio_big_cache_lock();
#if FIO_CHECKING
  fio_check_lock();
#endif
  fio_lock_hold_all(true);
}

static void fio_fork_release(void) {
  fio_lock_hold_all(false);
#if FIO_CHECKING
  fio_check_unlock();
#endif
  fio_big_cache_unlock();
  fio_mid_unlock_all();
  fio_pool_unlock_all();
  fio_registry_unlock();
}

static void fio_fork_parent(void) {
  fio_fork_release();
}

/* Whether the handlers are registered. A process forked while another thread of its
 * parent was initialising runs the initialisation again: it must not register the
 * handlers a second time (each fork would then release every lock twice, the second
 * time while other threads may hold them). Set after pthread_atfork returns, and by the
 * child handler: a fork between the two still finds it set in the child. */
static _Atomic int fio_fork_registered;

static void fio_fork_child(void) {
  atomic_store_explicit(&fio_fork_registered, 1, memory_order_relaxed);
  fio_fork_release();
  fio_registry_after_fork(&fio_thread);
}

void fio_fork_register(void) {
  if (atomic_load_explicit(&fio_fork_registered, memory_order_relaxed)) return;
  pthread_atfork(fio_fork_prepare, fio_fork_parent, fio_fork_child);
  atomic_store_explicit(&fio_fork_registered, 1, memory_order_relaxed);
}

void fio_malloc_after_fork(void) {
  /* In a child only one thread runs: whatever lock is still held belongs to no one. */
  fio_lock_hold_all(false);
  fio_registry_reset_lock();
  fio_pool_reset_locks();
  fio_mid_reset_locks();
  fio_big_cache_reset_lock();
#if FIO_CHECKING
  fio_check_reset_lock();
#endif
  fio_registry_after_fork(&fio_thread);
}
