/*
 * init.c - process-wide lazy initialisation, a thread's hand-back at its exit, the version
 * string.
 *
 * The allocator may be called before any constructor ran (the dynamic loader and libc
 * allocate early under LD_PRELOAD), so nothing depends on a constructor: the first call
 * that needs the globals initialises them.
 */
#include "internal.h"

fio_global_t fio_global;

/* A thread's exit (its key destructor; idempotent): everything it holds goes back. */
static void fio_thread_done(fio_thread_t *t) {
  fio_pool_flush_pending(t); /* a thread that only freed may still hold a batch */
  if (t->state != FIO_THREAD_ACTIVE) return;
  fio_mid_cache_flush(t);
  fio_pool_retire(t);
  fio_pool_disown_all(t);
  t->state = FIO_THREAD_EXITED; /* from here on recycled blocks skip this thread's cache */
  fio_pool_drain_cache(t);
  fio_thread_unregister(t);
}

/* The initialisation lock holds the id of the process whose thread initialises (0: free).
 * A process forked while another of its parent's threads was initialising finds the lock
 * taken by its parent's id: that thread does not exist in the child, so the child takes
 * the lock over and initialises itself (the fork handlers may not even be registered
 * yet, so no fork handler can release this lock). */
static _Atomic int fio_init_guard;
/* Set while this thread initialises: pthread_atfork may allocate, re-entering here. */
static FIO_TLS int fio_init_running;

static void fio_init_lock(void) {
  int self = fio_os_process_id();
  for (;;) {
    int holder = atomic_load_explicit(&fio_init_guard, memory_order_relaxed);
    if (holder != self &&
        atomic_compare_exchange_weak_explicit(&fio_init_guard, &holder, self, memory_order_acquire,
                                              memory_order_relaxed))
      return;
    if (holder == self) fio_os_yield(); /* another thread of this process initialises */
  }
}

void fio_init_slow(void) {
  if (fio_init_running) return;
  fio_init_lock();
  if (!atomic_load_explicit(&fio_global.ready, memory_order_relaxed)) {
    fio_init_running = 1;
    fio_global.page_size = fio_os_page_size();
    unsigned n = FIO_ARENA_COUNT ? FIO_ARENA_COUNT : fio_os_cpu_count();
    fio_global.arena_count = n > FIO_ARENA_MAX ? FIO_ARENA_MAX : n;
    fio_thread_key_init(fio_thread_done);
    fio_fork_register();
    atomic_store_explicit(&fio_global.ready, 1, memory_order_release);
    fio_init_running = 0;
  }
  atomic_store_explicit(&fio_init_guard, 0, memory_order_release);
}

#define FIO_STR2(x) #x
#define FIO_STR(x) FIO_STR2(x)

const char *fio_malloc_version(void) {
  return FIO_STR(FIO_MALLOC_VERSION_MAJOR) "." FIO_STR(FIO_MALLOC_VERSION_MINOR) "." FIO_STR(
      FIO_MALLOC_VERSION_PATCH) " (" FIO_TUNABLES_TEXT
#if FIO_CHECKING
                                ", checking"
#endif
#if FIO_ASAN
                                ", asan"
#endif
                                ")";
}
