/*
 * stats.c - the statistics snapshot and its allocation-free printer.
 *
 * Each thread writes its own counters (no read-modify-write); a snapshot sums the
 * registry of live threads, the totals of exited ones and the shared pool.
 */
#include "internal.h"

void fio_malloc_stats(fio_malloc_stats_t *out) {
  if (!out) return;
  fio_init();
  uint64_t sum[sizeof(fio_thread_stats_t) / sizeof(fio_counter_t)] = {0};
  uint64_t cached = 0;
  fio_registry_lock();
  fio_counter_t *ex = (fio_counter_t *)fio_registry_exited();
  for (size_t i = 0; i < sizeof(sum) / sizeof(sum[0]); ++i) sum[i] += fio_counter_get(&ex[i]);
  for (fio_thread_t *t = fio_registry_first(); t; t = t->reg_next) {
    fio_thread_stats_t counts;
    fio_thread_stats_read(t, &counts);
    fio_counter_t *c = (fio_counter_t *)&counts;
    for (size_t i = 0; i < sizeof(sum) / sizeof(sum[0]); ++i) sum[i] += fio_counter_get(&c[i]);
    cached += atomic_load_explicit(&t->cache_n, memory_order_relaxed);
  }
  fio_registry_unlock();
#define FIO_FIELD(name) sum[offsetof(fio_thread_stats_t, name) / sizeof(fio_counter_t)]
  uint64_t pooled = cached + fio_pool_count();
  out->allocations = FIO_FIELD(allocations);
  out->frees = FIO_FIELD(frees);
  out->live_bytes = FIO_FIELD(live_bytes);
  out->blocks_in_use = FIO_FIELD(blocks_opened) - FIO_FIELD(blocks_recycled);
  out->blocks_pooled = pooled;
  out->blocks_released = FIO_FIELD(blocks_released);
  out->mapped_bytes = atomic_load_explicit(&fio_mapped_bytes, memory_order_relaxed);
  out->big_allocations = FIO_FIELD(big_allocations);
  out->big_bytes = FIO_FIELD(big_bytes);
  out->contention_events = FIO_FIELD(contention);
#undef FIO_FIELD
  /* Counters of running threads are read mid-flight: keep differences from going
   * negative in a busy snapshot. */
  if ((int64_t)out->blocks_in_use < 0) out->blocks_in_use = 0;
  if ((int64_t)out->live_bytes < 0) out->live_bytes = 0;
  if ((int64_t)out->big_allocations < 0) out->big_allocations = 0;
  if ((int64_t)out->big_bytes < 0) out->big_bytes = 0;
}

/* Appends decimal `v` to buf at *len (no stdio: stdio may allocate). */
static void fio_put_u64(char *buf, size_t *len, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) buf[(*len)++] = tmp[--n];
}

static void fio_put_str(char *buf, size_t *len, const char *s) {
  while (*s) buf[(*len)++] = *s++;
}

void fio_malloc_stats_print(int fd) {
  fio_malloc_stats_t s;
  fio_malloc_stats(&s);
  const struct {
    const char *name;
    uint64_t value;
  } rows[] = {
      {"allocations", s.allocations},     {"frees", s.frees},
      {"live_bytes", s.live_bytes},       {"blocks_in_use", s.blocks_in_use},
      {"blocks_pooled", s.blocks_pooled}, {"blocks_released", s.blocks_released},
      {"mapped_bytes", s.mapped_bytes},   {"big_allocations", s.big_allocations},
      {"big_bytes", s.big_bytes},         {"contention_events", s.contention_events},
  };
  char buf[1024];
  size_t len = 0;
  fio_put_str(buf, &len, "fio_malloc ");
  fio_put_str(buf, &len, fio_malloc_version());
  fio_put_str(buf, &len, "\n");
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); ++i) {
    fio_put_str(buf, &len, "  ");
    fio_put_str(buf, &len, rows[i].name);
    fio_put_str(buf, &len, ": ");
    fio_put_u64(buf, &len, rows[i].value);
    fio_put_str(buf, &len, "\n");
  }
  fio_os_write(fd, buf, len);
}
