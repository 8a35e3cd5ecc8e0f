// The public C API's edge cases: sizes, zeroing, alignment, realloc, errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace fio_test;

namespace {

TEST(Api, MallocZeroGivesDistinctFreeablePointers) {
  std::set<void *> seen;
  std::vector<void *> ptrs;
  for (int i = 0; i < 1000; ++i) {
    void *p = fio_malloc(0);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(seen.insert(p).second) << "fio_malloc(0) returned " << p << " twice";
    ptrs.push_back(p);
  }
  for (void *p : ptrs) fio_free(p);
}

TEST(Api, FreeNullIsANoOpAndFreeKeepsErrno) {
  errno = 1234;
  fio_free(nullptr);
  void *small = fio_malloc(100), *big = fio_malloc(1 << 20);
  errno = 4321;
  fio_free(small);
  fio_free(big);
  EXPECT_EQ(errno, 4321);
}

TEST(Api, CallocOverflowFailsWithEnomem) {
  errno = 0;
  EXPECT_EQ(fio_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(fio_calloc(SIZE_MAX, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(fio_calloc((size_t)1 << 32, (size_t)1 << 32), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void *p = fio_calloc(0, 10);
  EXPECT_NE(p, nullptr);
  fio_free(p);
}

TEST(Api, HugeRequestsFailWithEnomem) {
  const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 15, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX,
                          SIZE_MAX / 2};
  for (size_t s : sizes) {
    errno = 0;
    EXPECT_EQ(fio_malloc(s), nullptr) << s;
    EXPECT_EQ(errno, ENOMEM) << s;
    errno = 0;
    EXPECT_EQ(fio_mmap(s), nullptr) << s;
    EXPECT_EQ(errno, ENOMEM) << s;
    errno = 0;
    EXPECT_EQ(fio_aligned_alloc(4096, s), nullptr) << s;
    EXPECT_EQ(errno, ENOMEM) << s;
  }
  // The allocator stays usable.
  void *p = fio_malloc(64);
  ASSERT_NE(p, nullptr);
  fio_free(p);
}

// Every size from 1 B to 64 KiB: 16-byte aligned, zeroed, usable size >= size. The
// memory of each size is dirtied before it is freed so that recycled memory is checked.
TEST(Api, EverySizeIsAlignedZeroedAndUsable) {
  const size_t step = kTsan ? 61 : 1;
  for (int round = 0; round < 2; ++round) {
    std::vector<void *> keep;
    for (size_t s = 1; s <= 65536; s += (s < 4096 ? step : 97 * step)) {
      void *p = fio_malloc(s);
      ASSERT_NE(p, nullptr) << s;
      ASSERT_TRUE(aligned_to(p, 16)) << s;
      ASSERT_EQ(first_nonzero(p, s), s) << "size " << s << " round " << round;
      size_t u = fio_malloc_usable_size(p);
      ASSERT_GE(u, s);
      ASSERT_EQ(first_nonzero(p, u), u) << "usable bytes of size " << s;
      std::memset(p, 0xA5, u);
      if (s % 3 == 0)
        keep.push_back(p);  // some live on, pinning their blocks
      else
        fio_free(p);
    }
    for (void *p : keep) fio_free(p);
  }
}

TEST(Api, CallocIsZeroedOnRecycledMemory) {
  for (int round = 0; round < 50; ++round) {
    std::vector<void *> ptrs;
    for (size_t i = 1; i < 200; ++i) {
      void *p = fio_calloc(i, 7);
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(first_nonzero(p, i * 7), i * 7);
      std::memset(p, 0xFF, i * 7);
      ptrs.push_back(p);
    }
    for (void *p : ptrs) fio_free(p);
  }
}

TEST(Api, MmapIsZeroedAlignedAndFreeable) {
  for (size_t s :
       {(size_t)0, (size_t)1, (size_t)100, (size_t)4096, (size_t)100000, (size_t)3 << 20}) {
    void *p = fio_mmap(s);
    ASSERT_NE(p, nullptr) << s;
    EXPECT_TRUE(aligned_to(p, 16));
    EXPECT_GE(fio_malloc_usable_size(p), s);
    EXPECT_EQ(first_nonzero(p, s), s);
    std::memset(p, 1, s);
    fio_free(p);
  }
}

TEST(Api, BigAllocationsAreZeroedAlignedAndUnmapped) {
  fio_malloc_stats_t before = stats();
  void *p = fio_malloc(1 << 20);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned_to(p, 16));
  EXPECT_EQ(first_nonzero(p, 1 << 20), (size_t)1 << 20);
  fio_malloc_stats_t during = stats();
  EXPECT_GE(during.big_allocations, before.big_allocations + 1);
  EXPECT_GE(during.big_bytes, before.big_bytes + (1 << 20));
  fio_free(p);
  fio_malloc_stats_t after = stats();
  EXPECT_LT(after.big_bytes, during.big_bytes);
}

#ifndef FIO_TEST_BIG_CACHE_BYTES
#define FIO_TEST_BIG_CACHE_BYTES 0
#define FIO_TEST_BIG_CACHE_SLOTS 0
#endif

// A freed big allocation waits in the cache of mappings: the next request that fits gets
// the same mapping back, zeroed, and the statistics count it live again, not mapped again.
TEST(Api, FreedBigMappingIsReusedZeroed) {
  const size_t kSize = 100000;
  fio_malloc_stats_t s0 = stats();
  auto *p = static_cast<unsigned char *>(fio_malloc(kSize));
  ASSERT_NE(p, nullptr);
  size_t usable = fio_malloc_usable_size(p);
  ASSERT_GE(usable, kSize);
  std::memset(p, 0xA5, usable);
  const uintptr_t old = reinterpret_cast<uintptr_t>(p);
  fio_malloc_stats_t s1 = stats();
  fio_free(p);
  fio_malloc_stats_t s2 = stats();
  EXPECT_EQ(s2.big_allocations, s0.big_allocations);
  EXPECT_EQ(s2.big_bytes, s0.big_bytes);
  EXPECT_EQ(s2.live_bytes, s0.live_bytes);
  const bool cached = FIO_TEST_BIG_CACHE_SLOTS > 0 && FIO_TEST_BIG_CACHE_BYTES / 4 >= usable + 64;
  if (cached) {
    EXPECT_EQ(s2.mapped_bytes, s1.mapped_bytes);
  }
  auto *q = static_cast<unsigned char *>(fio_malloc(kSize - 1000));
  ASSERT_NE(q, nullptr);
  size_t qusable = fio_malloc_usable_size(q);
  EXPECT_EQ(first_nonzero(q, qusable), qusable);
  fio_malloc_stats_t s3 = stats();
  EXPECT_EQ(s3.big_allocations, s1.big_allocations);
  EXPECT_EQ(s3.big_bytes, s1.big_bytes);
  if (cached) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(q), old);
    EXPECT_EQ(s3.mapped_bytes, s2.mapped_bytes);
  }
  fio_free(q);
  // Aligned and calloc'd big requests reuse cached mappings the same way.
  for (int i = 0; i < 4; ++i) {
    auto *r = static_cast<unsigned char *>(i % 2 ? fio_calloc(1, kSize) : fio_malloc(kSize));
    ASSERT_NE(r, nullptr);
    size_t n = fio_malloc_usable_size(r);
    EXPECT_EQ(first_nonzero(r, n), n);
    std::memset(r, 0x5A, n);
    fio_free(r);
    void *a = fio_aligned_alloc(4096, kSize);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(aligned_to(a, 4096));
    n = fio_malloc_usable_size(a);
    EXPECT_EQ(first_nonzero(a, n), n);
    std::memset(a, 0x5A, n);
    fio_free(a);
  }
}

#ifndef FIO_TEST_MID_MAX
#define FIO_TEST_MID_MAX 0
#endif

// Freed mappings beyond the cache's slots or bytes go back to the system. (The sizes are
// above the middle tier's, whose runs are not mappings of their own.)
TEST(Api, BigMappingCacheRespectsItsCaps) {
  constexpr size_t kFirst = (size_t)FIO_TEST_MID_MAX + 20000;
  const size_t kSizes[] = {kFirst, FIO_TEST_BIG_CACHE_BYTES / 8 > kFirst + 20000
                                       ? (size_t)FIO_TEST_BIG_CACHE_BYTES / 8
                                       : kFirst + 20000};
  for (size_t size : kSizes) {
    const size_t count = 2 * FIO_TEST_BIG_CACHE_SLOTS + 12;
    uint64_t m0 = stats().mapped_bytes;
    std::vector<void *> ptrs;
    for (size_t i = 0; i < count; ++i) {
      void *p = fio_malloc(size);
      ASSERT_NE(p, nullptr);
      std::memset(p, 1, size);
      ptrs.push_back(p);
    }
    size_t len = fio_malloc_usable_size(ptrs[0]) + 64;
    for (void *p : ptrs) fio_free(p);
    uint64_t m1 = stats().mapped_bytes;
    EXPECT_LE(m1, m0 + (uint64_t)FIO_TEST_BIG_CACHE_BYTES) << "size " << size;
    EXPECT_LE(m1, m0 + (uint64_t)FIO_TEST_BIG_CACHE_SLOTS * len) << "size " << size;
  }
}

// Neighbours on both sides hold a pattern; the object grows (in place, by moving, into a
// big allocation) and shrinks: its own bytes are kept exactly, the rest reads zero, and
// the neighbours are untouched.
TEST(Api, ReallocKeepsExactlyTheOldBytes) {
  for (size_t old_size : {(size_t)1, (size_t)24, (size_t)100, (size_t)1000, (size_t)16000}) {
    for (size_t new_size : {(size_t)1, (size_t)17, (size_t)200, (size_t)5000, (size_t)16384,
                            (size_t)20000, (size_t)300000}) {
      void *before = fio_malloc(48);
      unsigned char *p = static_cast<unsigned char *>(fio_malloc(old_size));
      void *after = fio_malloc(48);
      ASSERT_TRUE(before && p && after);
      fill_pattern(before, 48);
      fill_pattern(after, 48);
      for (size_t i = 0; i < old_size; ++i) p[i] = static_cast<unsigned char>(i * 13 + 5);
      unsigned char *q = static_cast<unsigned char *>(fio_realloc(p, new_size));
      ASSERT_NE(q, nullptr);
      ASSERT_TRUE(aligned_to(q, 16));
      size_t kept = old_size < new_size ? old_size : new_size;
      for (size_t i = 0; i < kept; ++i)
        ASSERT_EQ(q[i], static_cast<unsigned char>(i * 13 + 5)) << old_size << "->" << new_size;
      size_t u = fio_malloc_usable_size(q);
      ASSERT_GE(u, new_size);
      ASSERT_EQ(first_nonzero(q + kept, u - kept), u - kept) << old_size << "->" << new_size;
      ASSERT_EQ(check_pattern(before, 48), 48u);
      ASSERT_EQ(check_pattern(after, 48), 48u);
      // Grow again: what was cut off must not come back.
      unsigned char *r = static_cast<unsigned char *>(fio_realloc(q, new_size + 5000));
      ASSERT_NE(r, nullptr);
      ASSERT_EQ(first_nonzero(r + kept, new_size + 5000 - kept), new_size + 5000 - kept);
      fio_free(r);
      fio_free(before);
      fio_free(after);
    }
  }
}

// The last object of the thread's block grows in place; any other one moves.
TEST(Api, ReallocGrowsTheLastSliceInPlace) {
  void *a = fio_malloc(32);
  ASSERT_NE(a, nullptr);
  std::memset(a, 0x5A, 32);
  void *b = fio_realloc(a, 64);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b, a) << "the last slice of the current block should grow in place";
  EXPECT_EQ(first_nonzero(static_cast<char *>(b) + 32, 32), 32u);
  void *c = fio_malloc(32);  // b is no longer last
  void *d = fio_realloc(b, 128);
  ASSERT_NE(d, nullptr);
  EXPECT_NE(d, b);
  for (int i = 0; i < 32; ++i) ASSERT_EQ(static_cast<unsigned char *>(d)[i], 0x5A);
  EXPECT_EQ(first_nonzero(static_cast<char *>(d) + 32, 96), 96u);
  EXPECT_EQ(first_nonzero(c, 32), 32u) << "the neighbour must not receive the moved bytes";
  fio_free(c);
  fio_free(d);
}

// Freeing the newest object of the thread's block gives its bytes back at once (an
// alloc/free pair reuses the same memory); reused bytes read zero again.
TEST(Api, FreedNewestObjectIsReusedZeroed) {
  void *keep = fio_malloc(48);
  ASSERT_NE(keep, nullptr);
  fill_pattern(keep, 48);
  for (size_t size : {(size_t)16, (size_t)200, (size_t)3000}) {
    void *a = fio_malloc(size);
    ASSERT_NE(a, nullptr);
    std::memset(a, 0xFF, size);
    fio_free(a);
    void *b = fio_malloc(size);
    ASSERT_NE(b, nullptr);
    if (b == a) {
      EXPECT_EQ(first_nonzero(b, size), size) << "reused bytes of size " << size;
    } else {
      ADD_FAILURE() << "an alloc/free pair should reuse its slice (size " << size << ")";
    }
    fio_free(b);
  }
  EXPECT_EQ(check_pattern(keep, 48), 48u);
  fio_free(keep);
}

TEST(Api, BigReallocGrowsAndShrinksKeepingClassification) {
  size_t size = 40000;
  unsigned char *p = static_cast<unsigned char *>(fio_malloc(size));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<unsigned char>(i % 251);
  // Another mapping right after may force a move; either way the pointer stays valid.
  std::vector<void *> blockers;
  for (int round = 0; round < (kTsan ? 3 : 6); ++round) {
    size_t n = size * 3;
    p = static_cast<unsigned char *>(fio_realloc(p, n));
    ASSERT_NE(p, nullptr);
    for (size_t i = 0; i < size; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i % 251));
    ASSERT_EQ(first_nonzero(p + size, n - size), n - size);
    for (size_t i = size; i < n; ++i) p[i] = static_cast<unsigned char>(i % 251);
    size = n;
    ASSERT_GE(fio_malloc_usable_size(p), size);
    blockers.push_back(fio_mmap(4096));
  }
  p = static_cast<unsigned char *>(fio_realloc(p, 50000));
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < 50000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i % 251));
  p = static_cast<unsigned char *>(fio_realloc(p, 1000));  // big -> small
  ASSERT_NE(p, nullptr);
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i % 251));
  fio_free(p);
  for (void *b : blockers) fio_free(b);
}

TEST(Api, ReallocNullAndZero) {
  void *p = fio_realloc(nullptr, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(first_nonzero(p, 100), 100u);
  EXPECT_EQ(fio_realloc(p, 0), nullptr);  // frees, as glibc does
  void *big = fio_malloc(100000);
  EXPECT_EQ(fio_realloc(big, 0), nullptr);
}

TEST(Api, ReallocFailureLeavesThePointerUntouched) {
  unsigned char *p = static_cast<unsigned char *>(fio_malloc(100));
  ASSERT_NE(p, nullptr);
  std::memset(p, 7, 100);
  errno = 0;
  EXPECT_EQ(fio_realloc(p, SIZE_MAX - 4096), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(fio_reallocarray(p, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(p[i], 7);
  void *q = fio_reallocarray(p, 10, 30);
  ASSERT_NE(q, nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(static_cast<unsigned char *>(q)[i], 7);
  EXPECT_EQ(first_nonzero(static_cast<char *>(q) + 100, 200), 200u);
  fio_free(q);
}

TEST(Api, Realloc2CopiesOnlyTheValidPrefix) {
  for (size_t new_size : {(size_t)64, (size_t)4000, (size_t)100000}) {
    for (size_t old_size : {(size_t)200, (size_t)50000}) {
      unsigned char *p = static_cast<unsigned char *>(fio_malloc(old_size));
      ASSERT_NE(p, nullptr);
      std::memset(p, 0xEE, old_size);
      unsigned char *q = static_cast<unsigned char *>(fio_realloc2(p, new_size, 10));
      ASSERT_NE(q, nullptr);
      for (int i = 0; i < 10; ++i) ASSERT_EQ(q[i], 0xEE);
      ASSERT_EQ(first_nonzero(q + 10, new_size - 10), new_size - 10)
          << old_size << "->" << new_size;
      fio_free(q);
    }
  }
  // In place (the last slice of the thread's block) too.
  unsigned char *p = static_cast<unsigned char *>(fio_malloc(64));
  std::memset(p, 0xEE, 64);
  unsigned char *q = static_cast<unsigned char *>(fio_realloc2(p, 256, 16));
  for (int i = 0; i < 16; ++i) ASSERT_EQ(q[i], 0xEE);
  ASSERT_EQ(first_nonzero(q + 16, 240), 240u);
  fio_free(q);
}

TEST(Api, AlignedAllocationsForEveryAlignment) {
  for (size_t a = 1; a <= 65536 * 4; a <<= 1) {
    for (size_t s :
         {(size_t)0, (size_t)1, (size_t)48, (size_t)1000, (size_t)10000, (size_t)70000}) {
      void *p = fio_aligned_alloc(a, s);
      ASSERT_NE(p, nullptr) << a << " " << s;
      ASSERT_TRUE(aligned_to(p, a < 16 ? 16 : a)) << a << " " << s;
      ASSERT_GE(fio_malloc_usable_size(p), s);
      ASSERT_EQ(first_nonzero(p, s), s);
      std::memset(p, 0x11, s);
      void *m = fio_memalign(a, s);
      ASSERT_TRUE(m && aligned_to(m, a < 16 ? 16 : a));
      void *pm = nullptr;
      if (a >= sizeof(void *)) {
        ASSERT_EQ(fio_posix_memalign(&pm, a, s), 0);
        ASSERT_TRUE(pm && aligned_to(pm, a));
        ASSERT_EQ(first_nonzero(pm, s), s);
      }
      fio_free(p);
      fio_free(m);
      fio_free(pm);
    }
  }
}

TEST(Api, AlignedErrors) {
  errno = 0;
  EXPECT_EQ(fio_aligned_alloc(24, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(fio_aligned_alloc(0, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void *out = reinterpret_cast<void *>(0x1);
  errno = 0;
  EXPECT_EQ(fio_posix_memalign(&out, 4, 100), EINVAL);  // not a multiple of sizeof(void*)
  EXPECT_EQ(fio_posix_memalign(&out, 48, 100), EINVAL);
  EXPECT_EQ(fio_posix_memalign(&out, 64, SIZE_MAX - 100), ENOMEM);
  EXPECT_EQ(out, reinterpret_cast<void *>(0x1)) << "failed posix_memalign must not store";
  EXPECT_EQ(errno, 0) << "posix_memalign reports through its return value";
  // memalign rounds a non-power-of-two alignment up.
  void *p = fio_memalign(48, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned_to(p, 64));
  fio_free(p);
}

TEST(Api, PageAlignedForms) {
  void *v = fio_valloc(100);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(aligned_to(v, 4096));
  void *pv = fio_pvalloc(5000);
  ASSERT_NE(pv, nullptr);
  EXPECT_TRUE(aligned_to(pv, 4096));
  EXPECT_GE(fio_malloc_usable_size(pv), 8192u);
  void *pz = fio_pvalloc(0);
  ASSERT_NE(pz, nullptr);
  EXPECT_GE(fio_malloc_usable_size(pz), 4096u);
  errno = 0;
  EXPECT_EQ(fio_pvalloc(SIZE_MAX - 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  fio_free(v);
  fio_free(pv);
  fio_free(pz);
}

TEST(Api, UsableSizeIsTheSliceAndCanBeWritten) {
  EXPECT_EQ(fio_malloc_usable_size(nullptr), 0u);
  void *a = fio_malloc(20), *b = fio_malloc(20);
  EXPECT_EQ(fio_malloc_usable_size(a), 32u);
  std::memset(a, 0xCC, fio_malloc_usable_size(a));
  EXPECT_EQ(first_nonzero(b, 20), 20u) << "usable bytes of a must not overlap b";
  fio_free(a);
  fio_free(b);
}

TEST(Api, StatsCountAllocationsAndPrintWithoutAllocating) {
  fio_malloc_stats_t s0 = stats();
  void *p = fio_malloc(100);
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.allocations, s0.allocations + 1);
  EXPECT_GE(s1.live_bytes, s0.live_bytes + 100);
  EXPECT_GE(s1.blocks_in_use, 1u);
  EXPECT_GT(s1.mapped_bytes, 0u);
  fio_free(p);
  fio_malloc_stats_t s2 = stats();
  EXPECT_EQ(s2.frees, s1.frees + 1);
  EXPECT_EQ(s2.live_bytes, s0.live_bytes);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  fio_malloc_stats_print(fds[1]);
  close(fds[1]);
  char buf[2048] = {0};
  ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  close(fds[0]);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::strstr(buf, "allocations: "), nullptr);
  EXPECT_NE(std::strstr(buf, "mapped_bytes: "), nullptr);
}

// The free path reads an object's size from the block's bitmap: slices that end in the
// next bitmap word, and slices too long for one or two 64-bit windows, must free exactly their
// usable bytes (live_bytes would drift otherwise).
TEST(Api, FreeCountsTheSizeOfEverySliceLength) {
  fio_malloc_stats_t s0 = stats();
  std::vector<void *> objs;
  size_t usable = 0;
  // Every length from 1 to 80 units (16 B each), then longer ones, several times over so
  // each length starts at many positions of a bitmap word.
  for (int pass = 0; pass < 7; ++pass) {
    for (size_t units = 1; units <= 80; ++units) objs.push_back(fio_malloc(units * 16 - pass));
    for (size_t units = 96; units <= 1024; units += 61) objs.push_back(fio_malloc(units * 16));
  }
  for (void *p : objs) {
    ASSERT_NE(p, nullptr);
    usable += fio_malloc_usable_size(p);
  }
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.live_bytes - s0.live_bytes, usable);
  // Free every other object first (none is the newest of its block), then the rest.
  for (size_t i = 0; i < objs.size(); i += 2) fio_free(objs[i]);
  for (size_t i = 1; i < objs.size(); i += 2) fio_free(objs[i]);
  fio_malloc_stats_t s2 = stats();
  EXPECT_EQ(s2.frees - s1.frees, objs.size());
  EXPECT_EQ(s2.live_bytes, s0.live_bytes);
}

// Frees in random order hit the thread's owned blocks at random (its table of them, not
// the hint of the last one): each must count its object's usable bytes once, and blocks
// emptied that way are recycled.
TEST(Api, FreeInRandomOrderCountsEveryObject) {
  fio_malloc_stats_t s0 = stats();
  std::vector<void *> objs;
  size_t usable = 0;
  for (int i = 0; i < 6000; ++i) {
    objs.push_back(fio_malloc(16 + (static_cast<size_t>(i) * 37) % 700));
    ASSERT_NE(objs.back(), nullptr);
    usable += fio_malloc_usable_size(objs.back());
  }
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.live_bytes - s0.live_bytes, usable);
  std::mt19937 rng(11);
  std::shuffle(objs.begin(), objs.end(), rng);
  for (size_t i = 0; i < objs.size() / 2; ++i) {
    usable -= fio_malloc_usable_size(objs[i]);
    fio_free(objs[i]);
  }
  EXPECT_EQ(stats().live_bytes - s0.live_bytes, usable);
  for (size_t i = objs.size() / 2; i < objs.size(); ++i) fio_free(objs[i]);
  fio_malloc_stats_t s2 = stats();
  EXPECT_EQ(s2.frees - s1.frees, objs.size());
  EXPECT_EQ(s2.live_bytes, s0.live_bytes);
  EXPECT_LE(s2.blocks_in_use, s0.blocks_in_use + 1) << "emptied blocks are recycled";
}

// A thread's allocations and live bytes in the block it slices are not counted per call:
// its slice count and its bump position carry them. Every path that moves the bump
// position without an allocation or a free (alignment padding, growth in place, frees of
// the last slice, a rewound block, a new block) and a thread's exit must keep the
// snapshot exact.
TEST(Api, StatsStayExactWhereverTheBumpPositionMoves) {
  fio_malloc_stats_t s0 = stats();
  void *kept = nullptr;
  size_t kept_usable = 0;
  uint64_t thread_allocations = 0;
  std::thread([&] {
    // A new thread slices a block of its own, so these calls share one block.
    fio_malloc_stats_t t0 = stats();
    std::vector<void *> objs;
    size_t usable = 0;
    for (size_t a = 32; a <= 2048; a *= 2) {
      objs.push_back(fio_aligned_alloc(a, 48));
      objs.push_back(fio_malloc(24));
    }
    for (void *p : objs) usable += fio_malloc_usable_size(p);
    fio_malloc_stats_t t1 = stats();
    EXPECT_EQ(t1.allocations - t0.allocations, objs.size());
    EXPECT_EQ(t1.live_bytes - t0.live_bytes, usable) << "alignment padding is not live";

    void *g = fio_malloc(32);
    void *h = fio_realloc(g, 400);
    EXPECT_EQ(h, g) << "the newest slice grows in place";
    fio_malloc_stats_t t2 = stats();
    EXPECT_EQ(t2.allocations, t1.allocations + 1);
    EXPECT_EQ(t2.live_bytes - t1.live_bytes, fio_malloc_usable_size(h));

    fio_free(h);  // the last slices: the bump position moves back
    for (auto it = objs.rbegin(); it != objs.rend(); ++it) fio_free(*it);
    fio_malloc_stats_t t3 = stats();
    EXPECT_EQ(t3.live_bytes, t0.live_bytes);
    EXPECT_EQ(t3.frees - t0.frees, t3.allocations - t0.allocations);

    // Freed b, then c (the last slice), then a, which does not end at the bump position:
    // the block is rewound.
    void *a = fio_malloc(100), *b = fio_malloc(100), *c = fio_malloc(100);
    fio_free(b);
    fio_free(c);
    fio_free(a);
    void *again = fio_malloc(100);
    EXPECT_LE(again, a) << "an emptied block starts over from its first slice";
    fio_free(again);
    EXPECT_EQ(stats().live_bytes, t0.live_bytes);

    // Past one block (the thread retires it and takes another); one object outlives it.
    std::vector<void *> many;
    for (int i = 0; i < 400; ++i) many.push_back(fio_malloc(200));
    for (size_t i = 0; i + 1 < many.size(); ++i) fio_free(many[i]);
    kept = many.back();
    kept_usable = fio_malloc_usable_size(kept);
    fio_malloc_stats_t t4 = stats();
    EXPECT_EQ(t4.live_bytes - t0.live_bytes, kept_usable);
    thread_allocations = t4.allocations - t0.allocations;
  }).join();
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.allocations - s0.allocations, thread_allocations)
      << "an exited thread's counts stay";
  EXPECT_EQ(s1.live_bytes - s0.live_bytes, kept_usable);
  fio_free(kept);
  EXPECT_EQ(stats().live_bytes, s0.live_bytes);
}

TEST(Api, VersionNamesTheTunables) {
  const char *v = fio_malloc_version();
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(std::strncmp(v, "0.1.0", 5), 0) << v;
  EXPECT_NE(std::strstr(v, "block"), nullptr) << v;
}

// The header compiles as C (header_c.c is a C translation unit).
extern "C" int fio_test_header_compiles_as_c(void);
TEST(Api, HeaderCompilesAsC) {
  EXPECT_EQ(fio_test_header_compiles_as_c(), 1);
}

}  // namespace
