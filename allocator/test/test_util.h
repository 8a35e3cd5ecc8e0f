// Helpers shared by the allocator tests.
#ifndef FIO_TEST_UTIL_H
#define FIO_TEST_UTIL_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "fio/fio_malloc.h"

namespace fio_test {

// True when the tests run under a sanitizer (slower: scale loads down).
constexpr bool kAsan =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif
constexpr bool kTsan =
#if defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

// A byte derived from an object's address and position: a corrupted or moved object
// fails the check.
inline unsigned char pattern_byte(const void *base, size_t i) {
  uintptr_t a = reinterpret_cast<uintptr_t>(base);
  return static_cast<unsigned char>((a >> 4) * 31 + (a >> 12) + i * 7 + 1);
}

inline void fill_pattern(void *p, size_t n) {
  auto *c = static_cast<unsigned char *>(p);
  for (size_t i = 0; i < n; ++i) c[i] = pattern_byte(p, i);
}

// Index of the first byte that breaks the pattern, or n.
inline size_t check_pattern(const void *p, size_t n) {
  auto *c = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; ++i)
    if (c[i] != pattern_byte(p, i)) return i;
  return n;
}

// Index of the first non-zero byte of [p, p + n), or n.
inline size_t first_nonzero(const void *p, size_t n) {
  auto *c = static_cast<const unsigned char *>(p);
  for (size_t i = 0; i < n; ++i)
    if (c[i]) return i;
  return n;
}

inline bool aligned_to(const void *p, size_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

// An integer from the environment, or the default.
inline long env_long(const char *name, long fallback) {
  const char *v = std::getenv(name);
  if (!v || !*v) return fallback;
  char *end = nullptr;
  long x = std::strtol(v, &end, 10);
  return (end && *end == '\0' && x > 0) ? x : fallback;
}

// Runs `f` on a new thread: it starts with no block, and what it holds goes back at its
// exit, so each test sees the same start.
template <class F>
void on_fresh_thread(F f) {
  std::thread t(f);
  t.join();
}

inline fio_malloc_stats_t stats() {
  fio_malloc_stats_t s;
  fio_malloc_stats(&s);
  return s;
}

}  // namespace fio_test

#endif  // FIO_TEST_UTIL_H
