/*
 * os.h - the system layer of the fio allocator: mappings, CPU count, a clock, raw output.
 *
 * Error convention: functions that map memory return NULL and set errno = ENOMEM on
 * failure (whatever the system said); functions returning int give 0 on success and -1
 * with errno set otherwise. None of them allocates with malloc. One implementation per
 * platform (os_linux.c).
 */
#ifndef FIO_OS_H
#define FIO_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define FIO_OS_INTERNAL __attribute__((visibility("hidden")))

/** The system page size (a power of two). Never fails. */
FIO_OS_INTERNAL size_t fio_os_page_size(void);

/** CPUs this process may run on, at least 1. Never fails, never allocates. */
FIO_OS_INTERNAL unsigned fio_os_cpu_count(void);

/**
 * Maps `len` bytes of zeroed, readable and writable memory at an address `base` such
 * that `base + offset` is a multiple of `alignment`.
 * Preconditions: `len` and `offset` are multiples of the page size, `offset < len`,
 * `alignment` is a power of two >= the page size.
 * Returns `base`, or NULL with errno = ENOMEM (also when the sizes overflow).
 */
FIO_OS_INTERNAL void *fio_os_map(size_t len, size_t alignment, size_t offset);

/**
 * Unmaps [p, p + len). Preconditions: page-aligned range this layer mapped.
 * Returns 0, or -1 with errno set (the memory is then still mapped). Keeps errno on success.
 */
FIO_OS_INTERNAL int fio_os_unmap(void *p, size_t len);

/**
 * Grows or shrinks the mapping [p, p + old_len) to new_len bytes without moving it.
 * Preconditions: page-aligned `p`, `old_len` and `new_len`. Added pages read zero.
 * Returns 0, or -1 with errno set when the neighbouring address space is taken.
 */
FIO_OS_INTERNAL int fio_os_resize(void *p, size_t old_len, size_t new_len);

/**
 * Moves the mapping [p, p + old_len), growing it to new_len, to a new address `base`
 * with `base + offset` a multiple of `alignment` (the contents move, nothing is copied).
 * Same preconditions as fio_os_map and fio_os_resize. Returns the new base, or NULL
 * with errno = ENOMEM; on failure the old mapping is untouched.
 */
FIO_OS_INTERNAL void *fio_os_move(void *p, size_t old_len, size_t new_len, size_t alignment,
                                  size_t offset);

/**
 * Faults in [p, p + len) for writing with one system call, so that the caller's first
 * writes do not trap once per page (the kernel's batch costs less). A hint: where the
 * system lacks it or refuses (memory short), nothing happens and the pages fault in as
 * they are written. Preconditions: a page-aligned range of a mapping this layer made.
 * Keeps errno.
 */
FIO_OS_INTERNAL void fio_os_prefault(void *p, size_t len);

/**
 * Gives the pages of [p, p + len) back to the system while the range stays mapped: they
 * read zero at their next touch, which faults them in again. Preconditions: a page-aligned
 * range of a private anonymous mapping this layer made. Returns false when the system
 * refused (the pages then keep their contents). Keeps errno.
 */
FIO_OS_INTERNAL bool fio_os_purge(void *p, size_t len);

/** Writes all of `buf` to `fd`, retrying on EINTR and short writes; ignores errors. */
FIO_OS_INTERNAL void fio_os_write(int fd, const char *buf, size_t len);

/** Ends the process at once (abort, without running handlers that might allocate). */
FIO_OS_INTERNAL _Noreturn void fio_os_abort(void);

/** Gives the CPU away briefly (another thread is finishing the process's initialisation). */
FIO_OS_INTERNAL void fio_os_yield(void);

/** Sleeps while `*word == expected` (a futex private to the process). Returns at a wake,
 *  a signal, or at once when the word differs: the caller checks again. Keeps errno. */
FIO_OS_INTERNAL void fio_os_wait(_Atomic int *word, int expected);

/** Wakes one thread sleeping in fio_os_wait on `word`. Keeps errno. */
FIO_OS_INTERNAL void fio_os_wake(_Atomic int *word);

/** Milliseconds on a monotonic clock of coarse resolution (a few ms; cheap, no system
 *  call where the kernel offers one without). Never fails, never allocates. */
FIO_OS_INTERNAL uint64_t fio_os_now_ms(void);

/** The calling process's id (a system call: for slow paths only). Never fails. */
FIO_OS_INTERNAL int fio_os_process_id(void);

#endif /* FIO_OS_H */
