// Block life cycle: a block is recycled when its last object is freed and not before;
// blocks past the pool cap go back to the system once unused for a while, and past the
// pool maximum at once. Each test runs on a fresh thread so the
// blocks it sees are its own.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace fio_test;

namespace {

// Objects of this size fit FIO_TEST_BLOCK_SIZE / kObject times in a block (header aside).
constexpr size_t kBlock = FIO_TEST_BLOCK_SIZE;
constexpr size_t kObject = kBlock / 4 - 256;

TEST(Lifecycle, BlockIsRecycledAtItsLastFreeAndNotBefore) {
  on_fresh_thread([] {
    // Fill two blocks and start a third: the first two are retired by the thread.
    std::vector<void *> objs;
    for (int i = 0; i < 9; ++i) {
      void *p = fio_malloc(kObject);
      ASSERT_NE(p, nullptr);
      fill_pattern(p, kObject);
      objs.push_back(p);
    }
    // Objects 0..3 share the first block.
    uintptr_t mask = ~(uintptr_t)(kBlock - 1);
    for (int i = 1; i < 4; ++i) ASSERT_EQ((uintptr_t)objs[i] & mask, (uintptr_t)objs[0] & mask);
    ASSERT_NE((uintptr_t)objs[4] & mask, (uintptr_t)objs[0] & mask);

    fio_malloc_stats_t s0 = stats();
    for (int i = 0; i < 3; ++i) {
      fio_free(objs[i]);
      fio_malloc_stats_t s = stats();
      EXPECT_EQ(s.blocks_pooled, s0.blocks_pooled) << "recycled after " << i + 1 << " of 4 frees";
      EXPECT_EQ(s.blocks_in_use, s0.blocks_in_use);
    }
    // The survivor is intact: its block was not reused.
    EXPECT_EQ(check_pattern(objs[3], kObject), kObject);
    void *fresh = fio_malloc(kObject);  // served from the current (third) block
    EXPECT_NE((uintptr_t)fresh & mask, (uintptr_t)objs[0] & mask);
    fio_free(objs[3]);
    fio_malloc_stats_t s1 = stats();
    EXPECT_EQ(s1.blocks_pooled, s0.blocks_pooled + 1) << "not recycled at its last free";
    EXPECT_EQ(s1.blocks_in_use, s0.blocks_in_use - 1);
    for (int i = 4; i < 9; ++i) fio_free(objs[i]);
    fio_free(fresh);
  });
}

// Four objects per block, freed by the thread that sliced them in an order that hops
// between blocks (the first free into each takes the block back; later ones count there).
TEST(Lifecycle, BlocksAreRecycledAtTheirLastFreeInAnyOrder) {
  on_fresh_thread([] {
    std::vector<void *> objs;
    for (int i = 0; i < 13; ++i) objs.push_back(fio_malloc(kObject));  // 3 blocks retired
    uintptr_t mask = ~(uintptr_t)(kBlock - 1);
    for (int i = 0; i < 12; ++i)
      ASSERT_EQ((uintptr_t)objs[i] & mask, (uintptr_t)objs[i / 4 * 4] & mask);
    const int order[12] = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
    fio_malloc_stats_t s0 = stats();
    for (int k = 0; k < 12; ++k) {
      fio_free(objs[order[k]]);
      fio_malloc_stats_t s = stats();
      uint64_t emptied = k < 9 ? 0 : (uint64_t)(k - 8);
      EXPECT_EQ(s.blocks_in_use, s0.blocks_in_use - emptied) << "after free " << k + 1;
    }
    fio_free(objs[12]);
  });
}

// Runs `first` on a fresh thread, then `other` on another while the first waits, then
// `last` on the first thread; returns the statistics taken after `other`.
template <class F, class G, class H>
fio_malloc_stats_t with_a_second_thread(F first, G other, H last) {
  std::atomic<int> step{0};
  fio_malloc_stats_t between{};
  std::thread a([&] {
    first();
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
    last();
  });
  while (step.load() != 1) std::this_thread::yield();
  on_fresh_thread(other);
  between = stats();
  step.store(2);
  a.join();
  return between;
}

TEST(Lifecycle, BlocksAThreadOwnsGoBackWhenItExits) {
  // The first thread frees into its retired block (it owns it now); another thread frees
  // the rest. The block can only be recycled once the owner hands it over: at its exit.
  std::vector<void *> objs;
  fio_malloc_stats_t s0 = stats();
  with_a_second_thread(
      [&] {
        for (int i = 0; i < 5; ++i) objs.push_back(fio_malloc(kObject));
        fio_free(objs[0]);
      },
      [&] {
        for (int i = 1; i < 4; ++i) fio_free(objs[i]);
      },
      [&] { fio_free(objs[4]); });
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.blocks_in_use, s0.blocks_in_use) << "an exited thread keeps no block";
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
}

TEST(Lifecycle, OwnerHandsOverBlocksOtherThreadsEmptied) {
  if (FIO_TEST_OWNED_BLOCKS == 0) GTEST_SKIP() << "no owned blocks in this build";
  // As above, but the owner goes on working: when it takes its next block back, it sees
  // that another thread freed into the oldest one it owns, and hands that one over.
  std::vector<void *> objs;
  fio_malloc_stats_t after_other{}, after_owner{};
  after_other = with_a_second_thread(
      [&] {
        for (int i = 0; i < 5; ++i) objs.push_back(fio_malloc(kObject));
        fio_free(objs[0]);
      },
      [&] {
        for (int i = 1; i < 4; ++i) fio_free(objs[i]);
      },
      [&] {
        for (int i = 5; i < 9; ++i) objs.push_back(fio_malloc(kObject));  // opens block 3
        fio_free(objs[4]);  // takes block 2 back, hands block 1 over: it is recycled
        after_owner = stats();
        for (int i = 5; i < 9; ++i) fio_free(objs[i]);
      });
  EXPECT_EQ(after_owner.blocks_in_use, after_other.blocks_in_use)
      << "one block opened, the emptied one still held";
}

TEST(Lifecycle, RecycledBlockComesBackZeroed) {
  on_fresh_thread([] {
    std::vector<void *> objs;
    for (int i = 0; i < 64; ++i) {
      void *p = fio_malloc(kObject);
      std::memset(p, 0xFF, kObject);
      objs.push_back(p);
    }
    for (void *p : objs) fio_free(p);
    for (int i = 0; i < 64; ++i) {
      void *p = fio_malloc(kObject);
      ASSERT_EQ(first_nonzero(p, kObject), kObject);
      objs[i] = p;
    }
    for (void *p : objs) fio_free(p);
  });
}

TEST(Lifecycle, BlockFreedByAnotherThreadIsRecycledThere) {
  std::vector<void *> objs;
  on_fresh_thread([&] {
    for (int i = 0; i < 9; ++i) objs.push_back(fio_malloc(kObject));
  });  // the allocating thread is gone; its blocks live on
  fio_malloc_stats_t s0 = stats();
  on_fresh_thread([&] {
    for (void *p : objs) fio_free(p);
  });
  fio_malloc_stats_t s1 = stats();
  EXPECT_LE(s1.blocks_in_use + 3, s0.blocks_in_use) << "three blocks should have been recycled";
  EXPECT_EQ(s1.frees, s0.frees + 9);
}

// A thread that frees what another sliced keeps only a few of the blocks it empties (4):
// a thread that slices finds the others in the shared pool while the freeing thread lives
// on (a consumer would otherwise hoard blocks that its producers map again).
TEST(Lifecycle, BlocksAnotherThreadEmptiedGoWhereSlicingThreadsFindThem) {
  constexpr int kBlocks = 8;
  std::vector<void *> objs;
  on_fresh_thread([&] {
    for (int i = 0; i < kBlocks * 4; ++i) objs.push_back(fio_malloc(kObject));
  });
  std::vector<uintptr_t> sliced;
  for (void *p : objs) sliced.push_back(reinterpret_cast<uintptr_t>(p) & ~(uintptr_t)(kBlock - 1));
  std::atomic<int> step{0};
  std::thread freeing([&] {
    for (void *p : objs) fio_free(p);
    step = 1;
    while (step.load() != 2) std::this_thread::yield();  // alive while the other slices
  });
  while (step.load() != 1) std::this_thread::yield();
  const uint64_t pooled = stats().blocks_pooled;
  bool found = false;
  on_fresh_thread([&] {
    std::vector<void *> mine;
    for (uint64_t i = 0; i < (pooled + kBlocks) * 4 && !found; ++i) {
      void *p = fio_malloc(kObject);
      mine.push_back(p);
      uintptr_t base = reinterpret_cast<uintptr_t>(p) & ~(uintptr_t)(kBlock - 1);
      for (uintptr_t b : sliced) found = found || b == base;
    }
    for (void *p : mine) fio_free(p);
  });
  step = 2;
  freeing.join();
  EXPECT_TRUE(found) << "the blocks another thread emptied stayed out of reach";
}

unsigned arena_count() {
  unsigned arenas = FIO_TEST_ARENA_COUNT;
  if (arenas == 0) {
    cpu_set_t set;
    arenas = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  }
  return arenas > 64 ? 64 : arenas;
}

// Allocates `blocks` blocks' worth of objects on one fresh thread and frees them all on
// another: every block goes to the freeing thread's shard (it sliced none of them).
// Returns the statistics taken between the two.
fio_malloc_stats_t fill_one_shard(size_t blocks) {
  std::vector<void *> objs;
  on_fresh_thread([&] {
    for (size_t i = 0; i < blocks * 4; ++i) objs.push_back(fio_malloc(kObject));
  });
  fio_malloc_stats_t allocated = stats();
  on_fresh_thread([&] {
    for (void *p : objs) fio_free(p);
  });
  return allocated;
}

TEST(Lifecycle, PoolReleasesBlocksPastItsMaximumAtOnce) {
  const size_t blocks = FIO_TEST_THREAD_CACHE_BLOCKS + FIO_TEST_POOL_MAX_BLOCKS + 40;
  fio_malloc_stats_t s0 = stats();
  fio_malloc_stats_t s1 = fill_one_shard(blocks);
  fio_malloc_stats_t s2 = stats();
  EXPECT_GE(s2.blocks_released, s0.blocks_released + 40);
  EXPECT_LT(s2.mapped_bytes, s1.mapped_bytes);
  EXPECT_LE(s2.blocks_pooled, (uint64_t)FIO_TEST_POOL_MAX_BLOCKS * arena_count());
}

TEST(Lifecycle, PoolReleasesBlocksPastItsCapOnceTheyAgeOut) {
  // A shard keeps what a thread that exits hands it for a while (its successor takes the
  // same blocks again); past the cap, blocks unused for the decay time go back.
  const size_t blocks = FIO_TEST_THREAD_CACHE_BLOCKS + FIO_TEST_POOL_CAP_BLOCKS + 40;
  const unsigned arenas = arena_count();
  fio_malloc_stats_t s0 = stats();
  auto t0 = std::chrono::steady_clock::now();
  fill_one_shard(blocks);
  fio_malloc_stats_t s1 = stats();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(s1.blocks_pooled, (uint64_t)FIO_TEST_POOL_CAP_BLOCKS + 40);
  // (Only when this test started with empty shards and ran faster than the decay time.)
  if (FIO_TEST_POOL_DECAY_MS > 0 && s0.blocks_pooled == 0 &&
      elapsed < std::chrono::milliseconds(FIO_TEST_POOL_DECAY_MS / 2)) {
    EXPECT_EQ(s1.blocks_released, s0.blocks_released) << "blocks released before they aged";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(FIO_TEST_POOL_DECAY_MS + 20));
  // A thread that only takes a block (its home shard is empty, so it takes from the full
  // one) releases aged blocks there too.
  void *kept = nullptr;
  on_fresh_thread([&] { kept = fio_malloc(kObject); });
  EXPECT_GT(stats().blocks_released, s1.blocks_released) << "taking a block released nothing";
  // Each thread that exits visits its shard (threads take shards in turn), which then
  // releases a few aged blocks: 32 visits to each shard release all that aged.
  for (unsigned i = 0; i < 32 * arenas; ++i) on_fresh_thread([] { fio_free(fio_malloc(kObject)); });
  fio_free(kept);
  fio_malloc_stats_t s2 = stats();
  EXPECT_GE(s2.blocks_released, s1.blocks_released + 40);
  EXPECT_LT(s2.mapped_bytes, s1.mapped_bytes);
  EXPECT_LE(s2.blocks_pooled + 40, s1.blocks_pooled);
}

TEST(Lifecycle, ThreadExitHandsItsBlocksBack) {
  fio_malloc_stats_t s0 = stats();
  on_fresh_thread([] {
    for (int round = 0; round < 3; ++round) {
      std::vector<void *> objs;
      for (int i = 0; i < 400; ++i) objs.push_back(fio_malloc(100 + i));
      for (void *p : objs) fio_free(p);
    }
  });
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.blocks_in_use, s0.blocks_in_use) << "an exited thread keeps no block";
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
  EXPECT_EQ(s1.allocations - s0.allocations, s1.frees - s0.frees);
}

// Blocks carved from fresh memory are faulted in whole, in one call, for a thread that has
// filled a block before; a thread's first block is not: a program with many threads that
// each allocate a few objects keeps only the pages they touch.
TEST(Lifecycle, AThreadsFirstBlockHoldsOnlyThePagesItTouches) {
  if (stats().blocks_pooled) GTEST_SKIP() << "a pooled block would serve the thread";
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t resident = 0, pages = kBlock / page;
  std::thread([&] {
    void *p = fio_malloc(64);
    ASSERT_NE(p, nullptr);
    void *block = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(p) & ~(kBlock - 1));
    std::vector<unsigned char> in_core(pages);
    ASSERT_EQ(mincore(block, kBlock, in_core.data()), 0) << std::strerror(errno);
    for (unsigned char c : in_core) resident += c & 1;
    fio_free(p);
  }).join();
  EXPECT_GE(resident, 1u);
  EXPECT_LE(resident, 2u) << "of " << pages << " pages";
}

}  // namespace
