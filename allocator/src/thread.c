/*
 * thread.c - per-thread state: initial-exec TLS, the registry of live threads, and the
 * thread-exit hand-back through a pthread key destructor.
 */
#include "thread.h"

#include <pthread.h>

/* `pos` starts at the block size so the fast path's room check fails until a block is
 * taken; the counter makes the live bytes (counter + pos) zero. */
FIO_TLS fio_thread_t fio_thread = {.pos = FIO_BLOCK_SIZE,
                                   .limit = FIO_BLOCK_SIZE,
                                   .stats.live_bytes = (uint64_t)0 - FIO_BLOCK_SIZE};

static fio_lock_t fio_registry_guard;
static fio_thread_t *fio_registry_head;
static fio_thread_stats_t fio_registry_exited_stats;
static _Atomic uint32_t fio_next_arena;
static _Atomic uint64_t fio_next_thread_id;

/* pthread_key_create does not allocate; the key only exists to run fio_thread_exit. */
static pthread_key_t fio_thread_key;
static _Atomic int fio_thread_key_ready;

void fio_registry_lock(void) {
  fio_lock(&fio_registry_guard);
}
void fio_registry_unlock(void) {
  fio_unlock(&fio_registry_guard);
}
void fio_registry_reset_lock(void) {
  atomic_store_explicit(&fio_registry_guard.locked, 0, memory_order_relaxed);
}
fio_thread_t *fio_registry_first(void) {
  return fio_registry_head;
}
fio_thread_stats_t *fio_registry_exited(void) {
  return &fio_registry_exited_stats;
}

/* What hands a thread's memory back at its exit (the top layer's, given at init). */
static fio_thread_exit_fn fio_thread_on_exit;

static void fio_thread_exit(void *arg) {
  fio_thread_t *t = arg;
  if (t == &fio_thread) fio_thread_on_exit(t);
}

/* Called by fio_init_slow, before any thread registers (again in a process forked while
 * its parent was initialising: the key its parent made is kept). */
void fio_thread_key_init(fio_thread_exit_fn on_exit) {
  fio_thread_on_exit = on_exit;
  if (atomic_load_explicit(&fio_thread_key_ready, memory_order_relaxed)) return;
  if (pthread_key_create(&fio_thread_key, fio_thread_exit) == 0)
    atomic_store_explicit(&fio_thread_key_ready, 1, memory_order_release);
}

/* Moves thread `t`'s counts, the ones it keeps in its bump position and slice count
 * included, to the totals of exited threads: `t` counts nothing after. */
static void fio_stats_fold(fio_thread_t *t) {
  fio_thread_stats_t counts;
  fio_thread_stats_read(t, &counts);
  fio_counter_t *d = (fio_counter_t *)&fio_registry_exited_stats, *s = (fio_counter_t *)&counts;
  fio_counter_t *own = (fio_counter_t *)&t->stats;
  for (size_t i = 0; i < sizeof(counts) / sizeof(fio_counter_t); ++i) {
    fio_counter_add(&d[i], fio_counter_get(&s[i]));
    atomic_store_explicit(&own[i], 0, memory_order_relaxed);
  }
  fio_counter_add(&t->stats.live_bytes, (uint64_t)0 - fio_thread_pos(t));
  fio_counter_add(&t->stats.allocations, (uint64_t)0 - fio_counter_get(&t->cur_sliced));
}

void fio_thread_stats_read(fio_thread_t *t, fio_thread_stats_t *out) {
  fio_counter_t *d = (fio_counter_t *)out, *s = (fio_counter_t *)&t->stats;
  for (size_t i = 0; i < sizeof(*out) / sizeof(fio_counter_t); ++i)
    atomic_store_explicit(&d[i], fio_counter_get(&s[i]), memory_order_relaxed);
  fio_counter_add(&out->live_bytes, fio_thread_pos(t));
  fio_counter_add(&out->allocations, fio_counter_get(&t->cur_sliced));
}

void fio_thread_init(fio_thread_t *t) {
  fio_init();
  if (t->state == FIO_THREAD_ACTIVE) return;
  fio_thread_move_pos(t, FIO_BLOCK_SIZE); /* no block yet: the fast path's room check fails */
  t->id = atomic_fetch_add_explicit(&fio_next_thread_id, 1, memory_order_relaxed) + 1;
  t->arena =
      atomic_fetch_add_explicit(&fio_next_arena, 1, memory_order_relaxed) % fio_global.arena_count;
  fio_registry_lock();
  t->reg_prev = NULL;
  t->reg_next = fio_registry_head;
  if (fio_registry_head) fio_registry_head->reg_prev = t;
  fio_registry_head = t;
  fio_registry_unlock();
  t->state = FIO_THREAD_ACTIVE;
  /* Last: for a key past the first 32, glibc allocates here, which re-enters this
   * allocator; the state is complete by now, so that call is served normally. */
  if (atomic_load_explicit(&fio_thread_key_ready, memory_order_acquire))
    pthread_setspecific(fio_thread_key, t);
}

void fio_thread_unregister(fio_thread_t *t) {
  fio_registry_lock();
  if (t->reg_prev)
    t->reg_prev->reg_next = t->reg_next;
  else
    fio_registry_head = t->reg_next;
  if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
  t->reg_next = t->reg_prev = NULL;
  fio_stats_fold(t);
  fio_registry_unlock();
  /* A destructor that runs after this one and allocates registers the thread again;
   * glibc then calls this destructor once more. */
}

void fio_registry_after_fork(fio_thread_t *self) {
  /* Other threads do not exist in the child. Their blocks stay where they were (a
   * block they were slicing or owned keeps its bias and is never recycled; their ids are
   * never handed out again): their state may be half-updated, and leaking is the only
   * safe choice. Their counters are kept. */
  fio_thread_t *t = fio_registry_head;
  while (t) {
    fio_thread_t *next = t->reg_next;
    if (t != self) fio_stats_fold(t);
    t = next;
  }
  fio_registry_head = NULL;
  if (self->state == FIO_THREAD_ACTIVE) {
    self->reg_prev = self->reg_next = NULL;
    fio_registry_head = self;
  }
}
