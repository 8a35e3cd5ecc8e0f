// Sparse blocks: a block its owner emptied down to a few survivors is sliced again
// through its holes, so that a survivor pins the bytes around it, not a whole block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "fio/fio_malloc.h"
#include "test_util.h"

using fio_test::check_pattern;
using fio_test::fill_pattern;
using fio_test::on_fresh_thread;
using fio_test::stats;

namespace {

struct Obj {
  char *p;
  size_t n;
};

}  // namespace

// Groups of short-lived objects of which one in 64 survives: without reuse every block of
// every group stays pinned (about 9 blocks a group here); with it, the survivors share
// blocks. Every survivor keeps its contents throughout.
TEST(Sparse, SurvivorsOfGroupsShareBlocks) {
  on_fresh_thread([] {
    constexpr int kGroups = 200, kGroup = 1024, kKeepOneIn = 64;
    std::mt19937_64 rng(5);
    std::uniform_int_distribution<size_t> size(16, 512);
    std::vector<Obj> kept, group;
    fio_malloc_stats_t s0 = stats();
    size_t kept_bytes = 0;
    for (int g = 0; g < kGroups; ++g) {
      for (int i = 0; i < kGroup; ++i) {
        size_t n = size(rng);
        char *p = static_cast<char *>(fio_malloc_uninit(n));
        ASSERT_NE(p, nullptr);
        fill_pattern(p, n);
        group.push_back({p, n});
      }
      for (size_t i = 0; i < group.size(); ++i) {
        ASSERT_EQ(check_pattern(group[i].p, group[i].n), group[i].n);
        if (i % kKeepOneIn == 0) {
          kept.push_back(group[i]);
          kept_bytes += group[i].n;
        } else {
          fio_free(group[i].p);
        }
      }
      group.clear();
    }
    fio_malloc_stats_t s1 = stats();
    uint64_t blocks = s1.blocks_in_use - s0.blocks_in_use;
    // Pinned bytes would hold kGroups * 9 = 1800 blocks; the survivors' bytes fill
    // kept_bytes / 32 KiB, about 27. Allow a factor for holes too small to slice, but not
    // for space lost for good: the holes of each group's last block, freed while it was
    // still being sliced (forgetting them took 250 blocks here), and the rest of each
    // hole a request did not fit (forgetting it took 180; recording it, 86).
    std::printf("sparse: %llu blocks hold %zu survivors of %zu bytes\n",
                static_cast<unsigned long long>(blocks), kept.size(), kept_bytes);
    EXPECT_LT(blocks, static_cast<uint64_t>(kGroups) * 5 / 8)
        << "survivors " << kept.size() << " of " << kept_bytes << " bytes";
    for (Obj &o : kept) {
      ASSERT_EQ(check_pattern(o.p, o.n), o.n) << "a survivor was overwritten";
      fio_free(o.p);
    }
  });
}

// Random survivors and alloc/free pairs in the holes, the newest slice often filling a
// hole up to the survivor after it and freed again at once: every survivor keeps its
// contents and its start, and everything frees cleanly (a lost start would abort here).
TEST(Sparse, HolesNextToSurvivorsKeepThemIntact) {
  on_fresh_thread([] {
    std::mt19937_64 rng(11);
    std::vector<Obj> live;
    const int rounds = fio_test::kAsan || fio_test::kTsan ? 20 : 100;
    for (int round = 0; round < rounds; ++round) {
      size_t unit = 16 << (rng() % 4);
      std::vector<Obj> batch;
      for (int i = 0; i < 600; ++i) {
        char *p = static_cast<char *>(fio_malloc_uninit(unit));
        ASSERT_NE(p, nullptr);
        fill_pattern(p, unit);
        batch.push_back({p, unit});
      }
      for (size_t i = 0; i < batch.size(); ++i) {
        if (rng() % 32 == 0)
          live.push_back(batch[i]);
        else
          fio_free(batch[i].p);
      }
      for (int i = 0; i < 2000; ++i) {
        size_t n = unit * (1 + rng() % 3);
        char *p = static_cast<char *>(i % 2 ? fio_malloc_uninit(n) : fio_calloc(1, n));
        ASSERT_NE(p, nullptr);
        if (i % 2 == 0) {
          for (size_t k = 0; k < n; ++k) ASSERT_EQ(p[k], 0) << "calloc in a hole";
        }
        fill_pattern(p, n);
        if (rng() % 4 == 0)
          live.push_back({p, n});
        else
          fio_free(p);
      }
      while (live.size() > 300) {
        size_t k = rng() % live.size();
        ASSERT_EQ(check_pattern(live[k].p, live[k].n), live[k].n);
        fio_free(live[k].p);
        live[k] = live.back();
        live.pop_back();
      }
    }
    for (Obj &o : live) {
      ASSERT_EQ(check_pattern(o.p, o.n), o.n);
      fio_free(o.p);
    }
  });
}

// A block whose owner's count falls to FIO_MEM_SPARSE_LIVE while every 1 KiB of it still
// holds a live object is not sliced again (its holes would hold one object each); once
// most of those objects are gone it is looked at again, and its holes are sliced.
TEST(Sparse, ABlockTooFullIsLookedAtAgainLater) {
  on_fresh_thread([] {
    constexpr size_t kSize = 256, kObjects = 1024;
    auto block_of = [](const void *p) {
      return reinterpret_cast<uintptr_t>(p) & ~static_cast<uintptr_t>(32768 - 1);
    };
    std::vector<Obj> first;
    for (size_t i = 0; i < kObjects; ++i) {
      char *p = static_cast<char *>(fio_malloc_uninit(kSize));
      ASSERT_NE(p, nullptr);
      fill_pattern(p, kSize);
      first.push_back({p, kSize});
    }
    // The blocks the group filled (the last one is still being sliced: its tail is free).
    std::vector<uintptr_t> blocks;
    for (const Obj &o : first)
      if (block_of(o.p) != block_of(first.back().p)) blocks.push_back(block_of(o.p));
    auto in_first_blocks = [&](const void *p) {
      return std::find(blocks.begin(), blocks.end(), block_of(p)) != blocks.end();
    };
    // Every other object goes: each block keeps about 63, four in every 1 KiB, and its
    // holes are single 256-byte slices.
    for (size_t i = 1; i < kObjects; i += 2) fio_free(first[i].p);
    std::vector<Obj> second;
    size_t second_in_first = 0;
    for (size_t i = 0; i < 256; ++i) {
      char *p = static_cast<char *>(fio_malloc_uninit(kSize));
      ASSERT_NE(p, nullptr);
      second.push_back({p, kSize});
      second_in_first += in_first_blocks(p);
    }
    EXPECT_EQ(second_in_first, 0u) << "slices of 256 bytes placed between survivors";
    // Now all but one in 64 go: the blocks are nearly empty and are looked at again.
    for (size_t i = 0; i < kObjects; i += 2) {
      if (i % 64 == 0) continue;
      ASSERT_EQ(check_pattern(first[i].p, first[i].n), first[i].n);
      fio_free(first[i].p);
    }
    size_t third_in_first = 0;
    std::vector<Obj> third;
    for (size_t i = 0; i < 256; ++i) {
      char *p = static_cast<char *>(fio_malloc_uninit(kSize));
      ASSERT_NE(p, nullptr);
      fill_pattern(p, kSize);
      third.push_back({p, kSize});
      third_in_first += in_first_blocks(p);
    }
    // The first 96 or so fill the rest of the second group's last block; the others go
    // into the holes (without the second look: none).
    EXPECT_GE(third_in_first, 128u) << "the emptied blocks' holes were not sliced again";
    for (size_t i = 0; i < kObjects; i += 64) {
      ASSERT_EQ(check_pattern(first[i].p, first[i].n), first[i].n) << "a survivor was overwritten";
      fio_free(first[i].p);
    }
    for (const Obj &o : third) {
      ASSERT_EQ(check_pattern(o.p, o.n), o.n);
      fio_free(o.p);
    }
    for (const Obj &o : second) fio_free(o.p);
  });
}
