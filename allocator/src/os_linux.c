/*
 * os_linux.c - the system layer on Linux (see os.h for each function's contract).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "os.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

size_t fio_os_page_size(void) {
  static size_t page;
  if (!page) {
    long p = sysconf(_SC_PAGESIZE);
    page = p > 0 ? (size_t)p : 4096;
  }
  return page;
}

unsigned fio_os_cpu_count(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return (unsigned)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

/* Maps more than asked, then trims the head and tail so the kept part is aligned. */
static void *fio_os_reserve_aligned(size_t len, size_t alignment, size_t offset, int prot) {
  size_t page = fio_os_page_size();
  size_t extra = alignment > page ? alignment - page : 0;
  if (len > SIZE_MAX / 2 - extra) {
    errno = ENOMEM;
    return NULL;
  }
  char *raw = mmap(NULL, len + extra, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    errno = ENOMEM;
    return NULL;
  }
  uintptr_t want = ((uintptr_t)raw + offset + alignment - 1) & ~(uintptr_t)(alignment - 1);
  /* raw + offset is page aligned, so the aligned point is at most `extra` bytes on. */
  char *base = (char *)(want - offset);
  size_t head = (size_t)(base - raw);
  if (head) munmap(raw, head);
  size_t tail = extra - head;
  if (tail) munmap(base + len, tail);
  return base;
}

void *fio_os_map(size_t len, size_t alignment, size_t offset) {
  return fio_os_reserve_aligned(len, alignment, offset, PROT_READ | PROT_WRITE);
}

int fio_os_unmap(void *p, size_t len) {
  int saved = errno;
  if (munmap(p, len) != 0) return -1;
  errno = saved;
  return 0;
}

int fio_os_resize(void *p, size_t old_len, size_t new_len) {
  if (new_len == old_len) return 0;
  void *q = mremap(p, old_len, new_len, 0);
  if (q == MAP_FAILED) return -1;
  return 0;
}

void *fio_os_move(void *p, size_t old_len, size_t new_len, size_t alignment, size_t offset) {
  /* Reserve an aligned destination first, then let the kernel move the pages into it:
   * the alignment that classifies the pointer survives the move. */
  void *dst = fio_os_reserve_aligned(new_len, alignment, offset, PROT_NONE);
  if (!dst) return NULL;
  void *q = mremap(p, old_len, new_len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  if (q == MAP_FAILED) {
    munmap(dst, new_len);
    errno = ENOMEM;
    return NULL;
  }
  return q;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Set when the kernel does not know MADV_POPULATE_WRITE: no system call is wasted again. */
static _Atomic int fio_os_no_prefault;

void fio_os_prefault(void *p, size_t len) {
  if (atomic_load_explicit(&fio_os_no_prefault, memory_order_relaxed)) return;
  int saved = errno;
  if (madvise(p, len, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
    atomic_store_explicit(&fio_os_no_prefault, 1, memory_order_relaxed);
  errno = saved;
}

bool fio_os_purge(void *p, size_t len) {
  int saved = errno;
  bool ok = madvise(p, len, MADV_DONTNEED) == 0;
  errno = saved;
  return ok;
}

void fio_os_write(int fd, const char *buf, size_t len) {
  while (len) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += w;
    len -= (size_t)w;
  }
}

_Noreturn void fio_os_abort(void) {
  abort();
}

void fio_os_yield(void) {
  sched_yield();
}

void fio_os_wait(_Atomic int *word, int expected) {
  int saved = errno;
  syscall(SYS_futex, (int *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
  errno = saved;
}

void fio_os_wake(_Atomic int *word) {
  int saved = errno;
  syscall(SYS_futex, (int *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  errno = saved;
}

uint64_t fio_os_now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0 && clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int fio_os_process_id(void) {
  return (int)getpid();
}
