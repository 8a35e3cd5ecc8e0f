// The middle tier: requests above the big-allocation limit up to FIO_MID_MAX come from runs
// of blocks in large chunks, reused without new mappings, freed from any thread, grown in
// place, and given back when a chunk empties.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "fio/fio_malloc.h"
#include "test_util.h"

using fio_test::check_pattern;
using fio_test::fill_pattern;
using fio_test::first_nonzero;
using fio_test::on_fresh_thread;
using fio_test::stats;

#ifndef FIO_TEST_MID_MAX
#define FIO_TEST_MID_MAX 0
#endif

namespace {

constexpr size_t kChunk = size_t{32} << 20;
constexpr size_t kMidMax = FIO_TEST_MID_MAX;

}  // namespace

// Buffers of 16 KiB to 4 MiB replaced at random many times: every one is a big allocation
// of the statistics, aligned and intact, and the memory mapped stays within a few chunks
// however many were allocated (runs are reused, not mapped anew).
TEST(Mid, RunsAreReusedWithoutNewMappings) {
  if (kMidMax == 0) GTEST_SKIP() << "built without the middle tier";
  on_fresh_thread([] {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<size_t> size(16385, kMidMax);
    std::vector<std::pair<char *, size_t>> live(12, {nullptr, 0});
    fio_malloc_stats_t s0 = stats();
    uint64_t most_mapped = 0;
    const int steps = fio_test::kAsan || fio_test::kTsan ? 300 : 2000;
    for (int i = 0; i < steps; ++i) {
      auto &slot = live[rng() % live.size()];
      if (slot.first) {
        ASSERT_EQ(check_pattern(slot.first, 64), 64u);
        ASSERT_EQ(check_pattern(slot.first + slot.second - 64, 64), 64u);
        fio_free(slot.first);
      }
      size_t n = size(rng);
      char *p = static_cast<char *>(i % 3 ? fio_malloc_uninit(n) : fio_malloc(n));
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
      ASSERT_GE(fio_malloc_usable_size(p), n);
      if (i % 3 == 0) {
        ASSERT_EQ(first_nonzero(p, n), n) << "fio_malloc of a reused run";
      }
      fill_pattern(p, 64);
      fill_pattern(p + n - 64, 64);
      slot = {p, n};
      uint64_t mapped = stats().mapped_bytes;
      most_mapped = mapped > most_mapped ? mapped : most_mapped;
    }
    fio_malloc_stats_t s1 = stats();
    EXPECT_EQ(s1.big_allocations, s0.big_allocations + live.size());
    // 12 live buffers of at most 4 MiB fit in two chunks; first fit leaves holes, so allow
    // two more: far below the 2000 x 2 MiB that mapping each one would have mapped.
    EXPECT_LE(most_mapped, s0.mapped_bytes + 4 * kChunk);
    for (auto &slot : live) fio_free(slot.first);
  });
}

// A run freed by another thread goes back to its own heap and is reused there.
TEST(Mid, RunsFreedByOtherThreadsAreReused) {
  if (kMidMax == 0) GTEST_SKIP() << "built without the middle tier";
  std::vector<void *> objs;
  fio_malloc_stats_t s0 = stats();
  for (int round = 0; round < 20; ++round) {
    on_fresh_thread([&] {
      for (int i = 0; i < 8; ++i) {
        void *p = fio_malloc_uninit(100000 + i * 50000);
        ASSERT_NE(p, nullptr);
        std::memset(p, 0x5A, 100000);
        objs.push_back(p);
      }
    });
    on_fresh_thread([&] {
      for (void *p : objs) fio_free(p);
    });
    objs.clear();
  }
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.big_allocations, s0.big_allocations);
  EXPECT_LE(s1.mapped_bytes, s0.mapped_bytes + 2 * kChunk);
}

// A thread's freed run serves its next request of the same length (no lock, no search);
// the fio API still hands it out zeroed, and a request of another length takes another run.
TEST(Mid, AThreadsFreedRunServesItsNextRequestOfThatLength) {
  if (kMidMax == 0) GTEST_SKIP() << "built without the middle tier";
  on_fresh_thread([] {
    char *p = static_cast<char *>(fio_malloc_uninit(100000));
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5A, 100000);
    fio_free(p);
    char *q = static_cast<char *>(fio_malloc(100000));
    EXPECT_EQ(q, p);
    EXPECT_EQ(first_nonzero(q, 100000), 100000u) << "fio_malloc of a kept run";
    fill_pattern(q, 100000);
    char *r = static_cast<char *>(fio_malloc_uninit(250000));
    ASSERT_NE(r, nullptr);
    EXPECT_NE(r, q);
    EXPECT_EQ(check_pattern(q, 100000), 100000u);
    fio_free(q);
    fio_free(r);
  });
}

// fio_realloc grows a run over the free blocks after it without moving it; the contents
// stay and the added bytes read zero. A shrink keeps it in place.
TEST(Mid, ReallocGrowsARunInPlace) {
  if (kMidMax == 0) GTEST_SKIP() << "built without the middle tier";
  on_fresh_thread([] {
    char *p = static_cast<char *>(fio_malloc(40000));
    ASSERT_NE(p, nullptr);
    fill_pattern(p, 40000);
    char *q = static_cast<char *>(fio_realloc(p, 200000));
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q, p) << "the blocks after a lone run are free";
    EXPECT_EQ(check_pattern(q, 40000), 40000u);
    EXPECT_EQ(first_nonzero(q + 40000, 160000), 160000u);
    char *r = static_cast<char *>(fio_realloc(q, 50000));
    EXPECT_EQ(r, q);
    EXPECT_EQ(check_pattern(r, 40000), 40000u);
    EXPECT_EQ(first_nonzero(r + 40000, 10000), 10000u);
    // A neighbour right after it: growth must move, and keep the contents (the pattern
    // depends on the address: compare with a copy).
    std::vector<char> copy(r, r + 40000);
    char *n = static_cast<char *>(fio_malloc_uninit(30000));
    ASSERT_NE(n, nullptr);
    char *s = static_cast<char *>(fio_realloc_uninit(r, 3000000));
    ASSERT_NE(s, nullptr);
    EXPECT_NE(s, r);
    EXPECT_EQ(std::memcmp(s, copy.data(), 40000), 0);
    // Past the middle tier. `s` came from an _uninit call: its whole usable size is kept.
    size_t su = fio_malloc_usable_size(s);
    char *t = static_cast<char *>(fio_realloc(s, 6000000));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(std::memcmp(t, copy.data(), 40000), 0);
    EXPECT_EQ(first_nonzero(t + su, 6000000 - su), 6000000 - su);
    fio_free(t);
    fio_free(n);
  });
}

// Chunks that empty go back to the system, all but one per heap; fio_mmap, for long-lived
// memory, never takes a run (it would pin a chunk).
TEST(Mid, EmptiedChunksGoBackAndMmapTakesNoRun) {
  if (kMidMax == 0) GTEST_SKIP() << "built without the middle tier";
  on_fresh_thread([] {
    fio_malloc_stats_t s0 = stats();
    std::vector<void *> objs;
    // 9 chunks or more: past the free room the heaps' kept chunks may have (untouched pages).
    for (int i = 0; i < 80; ++i) objs.push_back(fio_malloc_uninit(3 << 20));
    EXPECT_GE(stats().mapped_bytes, s0.mapped_bytes + 3 * kChunk);
    for (void *p : objs) fio_free(p);
    EXPECT_LE(stats().mapped_bytes, s0.mapped_bytes + kChunk);
    // A run is whole blocks (its usable size is a multiple of the block less its header);
    // a mapping of its own is whole pages.
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void *r = fio_malloc(100000);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ((fio_malloc_usable_size(r) + 64) % FIO_TEST_BLOCK_SIZE, 0u);
    void *m = fio_mmap(100000);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(fio_malloc_usable_size(m) + 64, (100000 + 64 + page - 1) / page * page)
        << "fio_mmap maps memory of its own";
    EXPECT_EQ(first_nonzero(m, 100000), 100000u);
    fio_free(m);
    fio_free(r);
  });
}
