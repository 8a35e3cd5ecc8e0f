/*
 * fio_malloc.h - the fio allocator's public C interface (usable from C and C++).
 *
 * Per-thread arenas slice small objects out of blocks aligned to their own size, like
 * `sbrk`; a block is recycled whole when its last object is freed. Every pointer
 * handed out is 16-byte aligned. Requests above the big-allocation limit are mapped
 * from the system directly.
 *
 * Two families of allocating calls:
 *  - the fio API (`fio_malloc`, `fio_calloc`, `fio_realloc`, `fio_realloc2`, `fio_mmap`,
 *    and the aligned calls without a suffix): every byte handed out reads as zero,
 *    including the tail that `fio_realloc` adds;
 *  - the C standard's contract (the `_uninit` calls, which the override shim's `malloc`,
 *    `realloc`, aligned calls and C++ `operator new` use): the contents are indeterminate,
 *    and nothing is paid for zeroing that the caller did not ask for.
 * Both families may be mixed freely, on one thread or across threads: each call keeps its
 * own promise, and memory from either is resized and freed by either.
 *
 * Error convention: a failed allocating call returns NULL and sets `errno` (ENOMEM when
 * memory or the size is exhausted, EINVAL for a bad alignment) and the allocator stays
 * usable. `fio_free(NULL)` does nothing. Freeing a pointer this allocator did not hand
 * out, or freeing one twice, is detected (a message on stderr, then abort) in checking
 * builds always, and in normal builds where the cheap header check catches it.
 *
 * Any thread may free what any other thread allocated.
 */
#ifndef FIO_MALLOC_H
#define FIO_MALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FIO_MALLOC_VERSION_MAJOR 0
#define FIO_MALLOC_VERSION_MINOR 1
#define FIO_MALLOC_VERSION_PATCH 0

/** Alignment of every pointer the allocator hands out. */
#define FIO_MALLOC_ALIGNMENT 16

#if defined(__GNUC__)
#define FIO_MALLOC_API __attribute__((visibility("default")))
#define FIO_MALLOC_ATTR_MALLOC __attribute__((malloc, warn_unused_result))
#define FIO_MALLOC_ATTR_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#define FIO_MALLOC_ATTR_ALIGN(pos) __attribute__((alloc_align(pos)))
#else
#define FIO_MALLOC_API
#define FIO_MALLOC_ATTR_MALLOC
#define FIO_MALLOC_ATTR_SIZE(...)
#define FIO_MALLOC_ATTR_ALIGN(pos)
#endif

/** `size` zeroed bytes, 16-byte aligned. `fio_malloc(0)` returns a distinct pointer on
 *  every call, which `fio_free` accepts. NULL and ENOMEM when out of memory. */
FIO_MALLOC_API void *fio_malloc(size_t size) FIO_MALLOC_ATTR_MALLOC FIO_MALLOC_ATTR_SIZE(1);

/** `count * size` zeroed bytes. NULL and ENOMEM if the product overflows. */
FIO_MALLOC_API void *fio_calloc(size_t count, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_SIZE(1, 2);

/** Resizes `ptr` to `new_size` bytes. The old contents are kept exactly (up to the smaller
 *  size) and every byte past them reads as zero; the object may move. The old contents are
 *  its usable size (`fio_malloc_usable_size`): past the requested size they read zero for
 *  memory from the fio API, and are kept as they are for memory from an `_uninit` call.
 *  `fio_realloc(NULL, n)` is `fio_malloc(n)`; `fio_realloc(ptr, 0)` frees `ptr` and
 *  returns NULL, as glibc does. On failure returns NULL with ENOMEM and `ptr` is left
 *  untouched. */
FIO_MALLOC_API void *fio_realloc(void *ptr, size_t new_size) FIO_MALLOC_ATTR_SIZE(2);

/** Like `fio_realloc`, but only the first `copy_length` bytes of the old object are valid
 *  and copied if the object moves; the rest of the new object reads as zero. */
FIO_MALLOC_API void *fio_realloc2(void *ptr, size_t new_size, size_t copy_length)
    FIO_MALLOC_ATTR_SIZE(2);

/** Frees memory from any allocating call of this interface. NULL is ignored. Keeps errno. */
FIO_MALLOC_API void fio_free(void *ptr);

/** A zeroed allocation mapped from the system directly, for long-lived objects that should
 *  not pin a small-object block. Freed with `fio_free`. */
FIO_MALLOC_API void *fio_mmap(size_t size) FIO_MALLOC_ATTR_MALLOC FIO_MALLOC_ATTR_SIZE(1);

/** Restores the allocator's state in a child after `fork`. Forks are handled
 *  automatically (`pthread_atfork`); calling this again in the child is harmless. */
FIO_MALLOC_API void fio_malloc_after_fork(void);

/** Bytes usable at `ptr` (at least what was asked for). 0 for NULL. */
FIO_MALLOC_API size_t fio_malloc_usable_size(const void *ptr);

/** `size` zeroed bytes aligned to `alignment`, a power of two (any size is accepted).
 *  NULL and EINVAL for a bad alignment, NULL and ENOMEM when out of memory. */
FIO_MALLOC_API void *fio_aligned_alloc(size_t alignment, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_ALIGN(1) FIO_MALLOC_ATTR_SIZE(2);

/** POSIX rules: `alignment` must be a power of two and a multiple of `sizeof(void *)`.
 *  Returns 0 and stores the pointer, or EINVAL / ENOMEM and leaves `*out` untouched. */
FIO_MALLOC_API int fio_posix_memalign(void **out, size_t alignment, size_t size);

/** glibc `memalign` rules: an alignment that is not a power of two is rounded up to one. */
FIO_MALLOC_API void *fio_memalign(size_t alignment, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_SIZE(2);

/** Page-aligned `size` bytes. */
FIO_MALLOC_API void *fio_valloc(size_t size) FIO_MALLOC_ATTR_MALLOC FIO_MALLOC_ATTR_SIZE(1);

/** Page-aligned, `size` rounded up to a whole number of pages (0 gives one page). */
FIO_MALLOC_API void *fio_pvalloc(size_t size) FIO_MALLOC_ATTR_MALLOC;

/** `fio_realloc(ptr, count * size)`; NULL and ENOMEM if the product overflows, `ptr`
 *  untouched. */
FIO_MALLOC_API void *fio_reallocarray(void *ptr, size_t count, size_t size)
    FIO_MALLOC_ATTR_SIZE(2, 3);

/* ---- The C standard's contract: contents indeterminate ------------------------------
 * Each behaves as the call of the same name without the suffix (sizes, alignment rules,
 * errors, `realloc(ptr, 0)`), except that the bytes it hands out, and the bytes a resize
 * adds, are not zeroed. */

/** `size` bytes, 16-byte aligned, contents indeterminate (C `malloc`). */
FIO_MALLOC_API void *fio_malloc_uninit(size_t size) FIO_MALLOC_ATTR_MALLOC FIO_MALLOC_ATTR_SIZE(1);

/** C `calloc`: `count * size` bytes that read zero (NULL and ENOMEM if the product
 *  overflows); the rest of the usable size is indeterminate, so a reused big allocation
 *  is zeroed only as far as asked. */
FIO_MALLOC_API void *fio_calloc_uninit(size_t count, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_SIZE(1, 2);

/** C `realloc`: the old contents are kept up to the smaller size; bytes past them are
 *  indeterminate. */
FIO_MALLOC_API void *fio_realloc_uninit(void *ptr, size_t new_size) FIO_MALLOC_ATTR_SIZE(2);

/** `fio_realloc_uninit(ptr, count * size)`; NULL and ENOMEM if the product overflows. */
FIO_MALLOC_API void *fio_reallocarray_uninit(void *ptr, size_t count, size_t size)
    FIO_MALLOC_ATTR_SIZE(2, 3);

/** C `aligned_alloc` rules as `fio_aligned_alloc`; contents indeterminate. */
FIO_MALLOC_API void *fio_aligned_alloc_uninit(size_t alignment, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_ALIGN(1) FIO_MALLOC_ATTR_SIZE(2);

/** POSIX rules as `fio_posix_memalign`; contents indeterminate. */
FIO_MALLOC_API int fio_posix_memalign_uninit(void **out, size_t alignment, size_t size);

/** glibc `memalign` rules as `fio_memalign`; contents indeterminate. */
FIO_MALLOC_API void *fio_memalign_uninit(size_t alignment, size_t size) FIO_MALLOC_ATTR_MALLOC
    FIO_MALLOC_ATTR_SIZE(2);

/** Page-aligned `size` bytes; contents indeterminate. */
FIO_MALLOC_API void *fio_valloc_uninit(size_t size) FIO_MALLOC_ATTR_MALLOC FIO_MALLOC_ATTR_SIZE(1);

/** As `fio_pvalloc`; contents indeterminate. */
FIO_MALLOC_API void *fio_pvalloc_uninit(size_t size) FIO_MALLOC_ATTR_MALLOC;

/* ---- Introspection ------------------------------------------------------------------ */

/** The allocator's version, "MAJOR.MINOR.PATCH", plus the build's tunables. */
FIO_MALLOC_API const char *fio_malloc_version(void);

/** A snapshot of the allocator's counters, summed over every thread. Counters of
 *  threads that are still running are read without stopping them, so a snapshot taken
 *  while other threads allocate is approximate; one taken in quiet is exact. */
typedef struct fio_malloc_stats_s {
  uint64_t allocations;       /**< successful allocating calls since start */
  uint64_t frees;             /**< frees of non-NULL pointers since start */
  uint64_t live_bytes;        /**< usable bytes held by live allocations, small and big */
  uint64_t blocks_in_use;     /**< small-object blocks being sliced or holding live objects */
  uint64_t blocks_pooled;     /**< recycled blocks kept for reuse (thread caches + shared pool) */
  uint64_t blocks_released;   /**< blocks given back to the system since start */
  uint64_t mapped_bytes;      /**< bytes currently mapped (committed) from the system */
  uint64_t big_allocations;   /**< live allocations mapped directly (big and fio_mmap) */
  uint64_t big_bytes;         /**< bytes mapped for those live big allocations */
  uint64_t contention_events; /**< times a thread found a shared lock already taken */
} fio_malloc_stats_t;

/** Fills `*out` with a snapshot. */
FIO_MALLOC_API void fio_malloc_stats(fio_malloc_stats_t *out);

/** Writes the snapshot as human-readable text to file descriptor `fd` without allocating. */
FIO_MALLOC_API void fio_malloc_stats_print(int fd);

#ifdef __cplusplus
}
#endif

#endif /* FIO_MALLOC_H */
