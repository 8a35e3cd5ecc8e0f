/*
 * entry_points.c - every C allocation entry point of the shim, from many threads.
 *
 * Run with libfio-malloc.so in LD_PRELOAD. Checks, for each entry point, that the
 * program's reference binds to the shim and that it behaves as glibc's does where
 * programs depend on it (free(NULL), free keeping errno, realloc(NULL, n), realloc(p, 0),
 * posix_memalign's EINVAL with *out untouched, aligned_alloc and memalign rules,
 * reallocarray overflow, valloc/pvalloc page alignment, malloc_usable_size), and that
 * calloc reads zero also where malloc wrote before (only calloc zeroes: the C standard's
 * contract, nothing more, so every object is filled before it is checked).
 *
 * It also allocates where an allocator is most fragile: from a .preinit_array function,
 * which runs before any constructor (the shim's included), from a thread started there,
 * and at exit, from atexit handlers and destructors while other threads still allocate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim_test.h"

/* glibc's own names, exported for old binaries and interposers; no header declares them. */
void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t count, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

/* cfree only has a compatibility version and __libc_reallocarray is GLIBC_PRIVATE: a new
 * program cannot link them, an old one reaches them by name, as dlsym does here. */
static void (*cfree_fn)(void *);
static void *(*libc_reallocarray_fn)(void *, size_t, size_t);

static const char *const kEntryPoints[] = {
    "malloc",
    "free",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "malloc_usable_size",
    "cfree",
    "__libc_malloc",
    "__libc_free",
    "__libc_calloc",
    "__libc_realloc",
    "__libc_reallocarray",
    "__libc_memalign",
    "__libc_valloc",
    "__libc_pvalloc",
};

enum { kThreads = 8, kOpsPerThread = 8000, kExchangeSlots = 64 };

static size_t page_size;

/* Impossible sizes pass through here: the compiler would reject the constants. */
static size_t runtime_value(size_t value) {
  volatile size_t hidden = value;
  return hidden;
}

static int aligned_to(const void *p, size_t alignment) {
  return ((uintptr_t)p & (alignment - 1)) == 0;
}

/* ---- before any constructor ------------------------------------------------------- */

static atomic_int early_stop;
static atomic_long early_thread_rounds;
static pthread_t early_thread;
static int early_thread_started;
static void *early_objects[4];
static int early_ok;

static void *early_thread_main(void *arg) {
  (void)arg;
  uint64_t rng = 42;
  while (!atomic_load(&early_stop)) {
    size_t size = shim_rand(&rng) % 4000;
    unsigned char *p = malloc(size);
    if (p == NULL) _Exit(2);
    memset(p, 0xab, size);
    free(p);
    unsigned char *z = calloc(1, size); /* often the bytes just written */
    if (z == NULL || !shim_all_zero(z, size)) _Exit(2);
    free(z);
    atomic_fetch_add(&early_thread_rounds, 1);
  }
  return NULL;
}

/* Runs from .preinit_array: after libc's own start-up, before every constructor. */
static void early_allocations(int argc, char **argv, char **envp) {
  (void)argc, (void)argv, (void)envp;
  char *a = malloc(100);
  char *b = calloc(10, 10);
  char *c = realloc(NULL, 50);
  void *d = NULL;
  int rc = posix_memalign(&d, 64, 200);
  early_ok = a != NULL && b != NULL && c != NULL && rc == 0 && aligned_to(d, 64) &&
             shim_all_zero((unsigned char *)b, 100);
  c = realloc(c, 5000);
  early_ok = early_ok && c != NULL;
  early_objects[0] = a, early_objects[1] = b, early_objects[2] = c, early_objects[3] = d;
  early_thread_started = pthread_create(&early_thread, NULL, early_thread_main, NULL) == 0;
}

__attribute__((section(".preinit_array"),
               used)) static void (*const preinit_entry)(int, char **, char **) = early_allocations;

/* ---- the semantics each entry point must have ------------------------------------- */

static void check_free_keeps_errno(void *p) {
  errno = EDOM;
  free(p);
  SHIM_CHECK(errno == EDOM);
}

static void check_semantics(void) {
  /* free(NULL) and friends do nothing and keep errno. */
  errno = ERANGE;
  free(NULL);
  cfree_fn(NULL);
  __libc_free(NULL);
  SHIM_CHECK(errno == ERANGE);

  /* free keeps errno for small, large and aligned memory alike. */
  check_free_keeps_errno(malloc(24));
  check_free_keeps_errno(malloc(3u << 20));
  check_free_keeps_errno(memalign(4096, 100));
  check_free_keeps_errno(valloc(1u << 20));

  /* malloc(0): a distinct pointer each time, freeable. */
  void *z1 = malloc(0), *z2 = malloc(0);
  SHIM_CHECK(z1 != NULL && z2 != NULL && z1 != z2);
  free(z1);
  free(z2);

  /* Impossible sizes: NULL and ENOMEM, never a crash. */
  errno = 0;
  SHIM_CHECK(malloc(runtime_value(SIZE_MAX)) == NULL && errno == ENOMEM);
  errno = 0;
  SHIM_CHECK(malloc(runtime_value((size_t)PTRDIFF_MAX + 1)) == NULL && errno == ENOMEM);
  errno = 0;
  SHIM_CHECK(calloc(runtime_value(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM);
  errno = 0;
  SHIM_CHECK(__libc_calloc(runtime_value((size_t)1 << 33), (size_t)1 << 33) == NULL &&
             errno == ENOMEM);
  void *c0 = calloc(0, 5);
  SHIM_CHECK(c0 != NULL);
  free(c0);

  /* realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL, as glibc. */
  unsigned char *r = realloc(NULL, 100);
  SHIM_CHECK(r != NULL);
  shim_fill(r, 100, 7);
  errno = 0;
  SHIM_CHECK(realloc(r, runtime_value(SIZE_MAX)) == NULL && errno == ENOMEM);
  SHIM_CHECK(shim_verify(r, 100, 7)); /* untouched on failure */
  r = realloc(r, 3000);
  SHIM_CHECK(r != NULL && shim_verify(r, 100, 7));
  SHIM_CHECK(realloc(r, 0) == NULL);
  void *r0 = realloc(NULL, 0);
  SHIM_CHECK(r0 != NULL);
  SHIM_CHECK(__libc_realloc(r0, 0) == NULL);

  /* reallocarray: overflow gives ENOMEM and leaves the object alone. */
  unsigned char *ra = reallocarray(NULL, 10, 10);
  SHIM_CHECK(ra != NULL);
  shim_fill(ra, 100, 9);
  errno = 0;
  SHIM_CHECK(reallocarray(ra, runtime_value(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM);
  errno = 0;
  SHIM_CHECK(libc_reallocarray_fn(ra, (size_t)1 << 40, (size_t)1 << 40) == NULL && errno == ENOMEM);
  SHIM_CHECK(shim_verify(ra, 100, 9));
  ra = reallocarray(ra, 200, 10);
  SHIM_CHECK(ra != NULL && shim_verify(ra, 100, 9));
  free(ra);

  /* posix_memalign: EINVAL for an alignment that is not a power of two multiple of
   * sizeof(void *), ENOMEM for an impossible size, *out untouched on every error. */
  static const size_t bad_alignments[] = {0, 1, 2, 4, 3, 12, 24, 48, 4097, SIZE_MAX};
  for (size_t i = 0; i < sizeof bad_alignments / sizeof bad_alignments[0]; i++) {
    if (bad_alignments[i] % sizeof(void *) == 0 &&
        (bad_alignments[i] & (bad_alignments[i] - 1)) == 0 && bad_alignments[i] != 0)
      continue;
    void *out = &out;
    SHIM_CHECK(posix_memalign(&out, bad_alignments[i], 16) == EINVAL);
    SHIM_CHECK(out == &out);
  }
  void *out = &out;
  SHIM_CHECK(posix_memalign(&out, 64, runtime_value(SIZE_MAX)) == ENOMEM && out == &out);
  SHIM_CHECK(posix_memalign(&out, (size_t)1 << 63, 16) == ENOMEM && out == &out);
  static const size_t good_alignments[] = {8, 16, 32, 64, 256, 4096, 65536, (size_t)1 << 21};
  for (size_t i = 0; i < sizeof good_alignments / sizeof good_alignments[0]; i++) {
    void *p = NULL;
    SHIM_CHECK(posix_memalign(&p, good_alignments[i], 1000) == 0);
    SHIM_CHECK(p != NULL && aligned_to(p, good_alignments[i]));
    SHIM_CHECK(malloc_usable_size(p) >= 1000);
    free(p);
  }

  /* aligned_alloc: a power-of-two alignment (any size, C17); anything else is EINVAL,
   * as in glibc 2.38 and C17 (DR 460). */
  for (size_t i = 0; i < sizeof good_alignments / sizeof good_alignments[0]; i++) {
    unsigned char *p = aligned_alloc(good_alignments[i], 100);
    SHIM_CHECK(p != NULL && aligned_to(p, good_alignments[i]));
    free(p);
  }
  void *a0 = aligned_alloc(64, 0);
  SHIM_CHECK(a0 != NULL && aligned_to(a0, 64));
  free(a0);
  errno = 0;
  SHIM_CHECK(aligned_alloc(24, 48) == NULL && errno == EINVAL);
  errno = 0;
  SHIM_CHECK(aligned_alloc(64, runtime_value(SIZE_MAX)) == NULL && errno == ENOMEM);

  /* memalign, glibc rules: an alignment that is not a power of two is rounded up to one,
   * 0 behaves as malloc, one above SIZE_MAX / 2 + 1 is EINVAL. */
  unsigned char *m = memalign(48, 100);
  SHIM_CHECK(m != NULL && aligned_to(m, 64));
  free(m);
  m = memalign(0, 100);
  SHIM_CHECK(m != NULL && aligned_to(m, 16));
  free(m);
  m = __libc_memalign(3000, 100);
  SHIM_CHECK(m != NULL && aligned_to(m, 4096));
  __libc_free(m);
  errno = 0;
  SHIM_CHECK(memalign(SIZE_MAX, 16) == NULL && errno == EINVAL);
  errno = 0;
  SHIM_CHECK(memalign(4096, runtime_value(SIZE_MAX - 100)) == NULL && errno == ENOMEM);

  /* valloc and pvalloc: page aligned; pvalloc rounds the size up to whole pages. */
  unsigned char *v = valloc(100);
  SHIM_CHECK(v != NULL && aligned_to(v, page_size));
  free(v);
  v = __libc_valloc(0);
  SHIM_CHECK(v != NULL && aligned_to(v, page_size));
  free(v);
  v = pvalloc(0);
  SHIM_CHECK(v != NULL && aligned_to(v, page_size) && malloc_usable_size(v) >= page_size);
  free(v);
  v = __libc_pvalloc(page_size + 1);
  SHIM_CHECK(v != NULL && aligned_to(v, page_size) && malloc_usable_size(v) >= 2 * page_size);
  memset(v, 1, 2 * page_size); /* the whole rounded size is the caller's */
  free(v);
  errno = 0;
  SHIM_CHECK(pvalloc(runtime_value(SIZE_MAX)) == NULL && errno == ENOMEM);
  errno = 0;
  SHIM_CHECK(valloc(runtime_value(SIZE_MAX)) == NULL && errno == ENOMEM);

  /* malloc_usable_size: 0 for NULL, at least the request, and all of it writable. */
  SHIM_CHECK(malloc_usable_size(NULL) == 0);
  static const size_t sizes[] = {1, 15, 16, 17, 100, 1000, 40000, 300000, 5000000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *p = __libc_malloc(sizes[i]);
    SHIM_CHECK(p != NULL && aligned_to(p, FIO_MALLOC_ALIGNMENT));
    size_t usable = malloc_usable_size(p);
    SHIM_CHECK(usable >= sizes[i]);
    memset(p, 0x5a, usable);
    __libc_free(p);
    /* calloc of the same size, served from the bytes just written or a reused mapping */
    p = calloc(1, usable);
    SHIM_CHECK(p != NULL && shim_all_zero(p, usable));
    memset(p, 0x5a, usable);
    p = realloc(p, usable / 2 + 1); /* dirty shrink, then calloc again on the same bytes */
    SHIM_CHECK(p != NULL);
    free(p);
    p = __libc_calloc(usable, 1);
    SHIM_CHECK(p != NULL && shim_all_zero(p, usable));
    free(p);
  }
}

/* Allocation counters, exact while the process has one thread. */
static void check_counters_single_threaded(void) {
  enum { kCount = 100 };
  void *objects[kCount];
  fio_malloc_stats_t before = shim_stats();
  for (int i = 0; i < kCount; i++) objects[i] = malloc(48);
  fio_malloc_stats_t allocated = shim_stats();
  for (int i = 0; i < kCount; i++) free(objects[i]);
  void *p = malloc(10);
  SHIM_CHECK(realloc(p, 0) == NULL); /* frees */
  fio_malloc_stats_t after = shim_stats();
  SHIM_CHECK(allocated.allocations - before.allocations == kCount);
  SHIM_CHECK(allocated.live_bytes - before.live_bytes >= kCount * 48);
  SHIM_CHECK(after.frees - allocated.frees == kCount + 1);
  SHIM_CHECK(after.live_bytes == before.live_bytes);
}

/* ---- many threads, every entry point ---------------------------------------------- */

/* An exchanged object starts with its own description, so whoever takes it out of the
 * shared slots (often another thread) can verify and free it. */
typedef struct {
  size_t size;
  uint64_t tag;
} object_header;

static _Atomic(object_header *) exchange[kExchangeSlots];

static size_t random_size(uint64_t *rng) {
  uint64_t r = shim_rand(rng);
  if ((r & 255) == 0) return (size_t)(r >> 12) % (1u << 20); /* big: mapped directly */
  if ((r & 15) == 0) return (size_t)(r >> 12) % 65536;
  return (size_t)(r >> 12) % 1024;
}

static size_t random_alignment(uint64_t *rng) {
  return (size_t)1 << (3 + shim_rand(rng) % 14); /* 8 .. 64 KiB */
}

/* One allocation through a randomly chosen entry point. Returns the object and sets
 * *size to what the caller may use. Checks alignment, usable size, and calloc's zeroing. */
static unsigned char *allocate_any(uint64_t *rng, size_t *size) {
  size_t n = random_size(rng), alignment = FIO_MALLOC_ALIGNMENT;
  size_t count = n / 8 + 1, each = 8;
  unsigned char *p = NULL;
  int zeroed = 0;
  switch (shim_rand(rng) % 16) {
    case 0:
      p = malloc(n);
      break;
    case 1:
      p = calloc(count, each), n = count * each, zeroed = 1;
      break;
    case 2:
      p = realloc(NULL, n);
      break;
    case 3:
      p = reallocarray(NULL, count, each), n = count * each;
      break;
    case 4: {
      void *out = NULL;
      alignment = random_alignment(rng);
      SHIM_CHECK(posix_memalign(&out, alignment, n) == 0);
      p = out;
      break;
    }
    case 5:
      alignment = random_alignment(rng), p = aligned_alloc(alignment, n);
      break;
    case 6:
      alignment = random_alignment(rng), p = memalign(alignment, n);
      break;
    case 7:
      alignment = page_size, p = valloc(n);
      break;
    case 8:
      alignment = page_size, p = pvalloc(n), n = (n + page_size - 1) / page_size * page_size;
      break;
    case 9:
      p = __libc_malloc(n);
      break;
    case 10:
      p = __libc_calloc(count, each), n = count * each, zeroed = 1;
      break;
    case 11:
      alignment = random_alignment(rng), p = __libc_memalign(alignment, n);
      break;
    case 12:
      alignment = page_size, p = __libc_valloc(n);
      break;
    case 13:
      alignment = page_size, p = __libc_pvalloc(n);
      n = (n + page_size - 1) / page_size * page_size;
      break;
    case 14:
      p = __libc_realloc(NULL, n);
      break;
    default:
      p = libc_reallocarray_fn(NULL, count, each), n = count * each;
      break;
  }
  SHIM_CHECK(p != NULL);
  SHIM_CHECK(aligned_to(p, alignment < FIO_MALLOC_ALIGNMENT ? FIO_MALLOC_ALIGNMENT : alignment));
  SHIM_CHECK(malloc_usable_size(p) >= n);
  if (zeroed) SHIM_CHECK(shim_all_zero(p, n));
  *size = n;
  return p;
}

/* Grows or shrinks through one of the realloc entry points: the kept prefix must survive
 * (the new tail's contents are indeterminate, as in C). */
static unsigned char *resize_any(uint64_t *rng, unsigned char *p, size_t *size, uint64_t tag) {
  size_t old_size = *size, new_size = random_size(rng) + 1;
  unsigned char *q;
  switch (shim_rand(rng) % 3) {
    case 0:
      q = realloc(p, new_size);
      break;
    case 1:
      q = __libc_realloc(p, new_size);
      break;
    default:
      q = reallocarray(p, 1, new_size);
      break;
  }
  SHIM_CHECK(q != NULL && aligned_to(q, FIO_MALLOC_ALIGNMENT));
  size_t kept = old_size < new_size ? old_size : new_size;
  SHIM_CHECK(shim_verify(q, kept, tag));
  shim_fill(q, new_size, tag);
  *size = new_size;
  return q;
}

static void release_any(uint64_t *rng, unsigned char *p) {
  switch (shim_rand(rng) % 5) {
    case 0:
      free(p);
      break;
    case 1:
      cfree_fn(p);
      break;
    case 2:
      __libc_free(p);
      break;
    case 3:
      SHIM_CHECK(realloc(p, 0) == NULL);
      break;
    default:
      SHIM_CHECK(__libc_realloc(p, 0) == NULL);
      break;
  }
}

static void *worker_main(void *arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg * 7919 + 1;
  check_semantics();
  for (int op = 0; op < kOpsPerThread; op++) {
    size_t size;
    unsigned char *p = allocate_any(&rng, &size);
    uint64_t tag = shim_rand(&rng);
    shim_fill(p, size, tag);
    if (shim_rand(&rng) % 4 == 0) p = resize_any(&rng, p, &size, tag);
    if (size >= sizeof(object_header) && shim_rand(&rng) % 3 == 0) {
      /* Hand it to whichever thread comes next; free what was there. */
      object_header *header = (object_header *)p;
      header->size = size, header->tag = tag;
      shim_fill(p + sizeof *header, size - sizeof *header, tag);
      object_header *previous =
          atomic_exchange(&exchange[shim_rand(&rng) % kExchangeSlots], header);
      if (previous != NULL) {
        SHIM_CHECK(shim_verify((unsigned char *)(previous + 1), previous->size - sizeof *previous,
                               previous->tag));
        release_any(&rng, (unsigned char *)previous);
      }
    } else {
      SHIM_CHECK(shim_verify(p, size, tag));
      release_any(&rng, p);
    }
  }
  return NULL;
}

/* ---- at exit ------------------------------------------------------------------------ */

static void *exit_objects[64];

static void *exit_racer_main(void *arg) {
  uint64_t rng = (uint64_t)(uintptr_t)arg;
  for (;;) { /* until the process ends under it */
    size_t size = random_size(&rng);
    unsigned char *p = (size & 1) ? calloc(size, 1) : malloc(size);
    if (p == NULL || ((size & 1) && !shim_all_zero(p, size))) _Exit(3);
    shim_fill(p, size, size);
    if (!shim_verify(p, size, size)) _Exit(3);
    free(p);
  }
  return NULL;
}

static void free_at_exit(void) {
  for (int i = 0; i < 32; i++) free(exit_objects[i]);
  char *late = strdup("allocated by an atexit handler");
  SHIM_CHECK(late != NULL);
  free(late);
}

__attribute__((destructor)) static void free_in_destructor(void) {
  for (int i = 32; i < 64; i++) free(exit_objects[i]);
  void *late = calloc(100, 100);
  if (late == NULL) _Exit(4);
  free(late);
}

int main(void) {
  page_size = (size_t)sysconf(_SC_PAGESIZE);
  cfree_fn = (void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
  libc_reallocarray_fn =
      (void *(*)(void *, size_t, size_t))dlsym(RTLD_DEFAULT, "__libc_reallocarray");
  SHIM_CHECK(cfree_fn != NULL && libc_reallocarray_fn != NULL);

  /* Every entry point binds to the shim, as the dynamic linker resolves it and as this
   * program sees it. */
  for (size_t i = 0; i < sizeof kEntryPoints / sizeof kEntryPoints[0]; i++)
    shim_expect_symbol_from_shim(kEntryPoints[i]);
  const char *where;
  SHIM_CHECK(shim_owns_address((const void *)(uintptr_t)&malloc, &where));
  SHIM_CHECK(shim_owns_address((const void *)(uintptr_t)&free, &where));
  SHIM_CHECK(shim_owns_address((const void *)(uintptr_t)&__libc_memalign, &where));

  /* Before constructors: what the .preinit_array function allocated is sound. */
  SHIM_CHECK(early_ok);
  SHIM_CHECK(early_thread_started);
  while (atomic_load(&early_thread_rounds) < 1000) sched_yield();
  atomic_store(&early_stop, 1);
  SHIM_CHECK(pthread_join(early_thread, NULL) == 0);
  for (int i = 0; i < 4; i++) free(early_objects[i]);

  check_counters_single_threaded();
  check_semantics();

  pthread_t threads[kThreads];
  for (uintptr_t i = 0; i < kThreads; i++)
    SHIM_CHECK(pthread_create(&threads[i], NULL, worker_main, (void *)(i + 1)) == 0);
  for (int i = 0; i < kThreads; i++) SHIM_CHECK(pthread_join(threads[i], NULL) == 0);
  uint64_t rng = 99;
  for (int i = 0; i < kExchangeSlots; i++) {
    object_header *left = atomic_exchange(&exchange[i], NULL);
    if (left == NULL) continue;
    SHIM_CHECK(shim_verify((unsigned char *)(left + 1), left->size - sizeof *left, left->tag));
    release_any(&rng, (unsigned char *)left);
  }

  /* The C library's own allocations (stdio, strdup) come from the shim too. */
  fio_malloc_stats_t before = shim_stats();
  char *copy = strdup("the C library allocates through the shim");
  fio_malloc_stats_t after = shim_stats();
  SHIM_CHECK(copy != NULL && after.allocations == before.allocations + 1);
  free(copy);

  /* Exit while other threads allocate and while handlers and destructors still free. */
  for (int i = 0; i < 64; i++) SHIM_CHECK((exit_objects[i] = malloc(64 + (size_t)i * 100)) != NULL);
  SHIM_CHECK(atexit(free_at_exit) == 0);
  for (uintptr_t i = 0; i < 2; i++) {
    pthread_t racer;
    SHIM_CHECK(pthread_create(&racer, NULL, exit_racer_main, (void *)(i + 1000)) == 0);
    SHIM_CHECK(pthread_detach(racer) == 0);
  }
  printf("entry points: %d threads x %d operations through %zu entry points: ok\n", kThreads,
         kOpsPerThread, sizeof kEntryPoints / sizeof kEntryPoints[0]);
  return 0;
}
