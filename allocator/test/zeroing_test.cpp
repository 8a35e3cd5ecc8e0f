// Zeroing per entry point: the fio API (fio_malloc, fio_calloc, fio_realloc, fio_realloc2,
// fio_mmap, the aligned calls) hands out memory that reads zero whatever the C standard's
// calls (the _uninit family, behind the shim's malloc) did to the same blocks before: in
// one block, in recycled blocks, across threads, for big mappings reused from the cache.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "fio/fio_malloc.h"
#include "test_util.h"

using fio_test::check_pattern;
using fio_test::fill_pattern;
using fio_test::first_nonzero;
using fio_test::on_fresh_thread;

namespace {

constexpr unsigned char kDirt = 0xA5;

// An object of the model below: what it must hold. `clean_tail`: the bytes past `n` up to
// its usable size read zero (a zero-asking call made it); after an _uninit call they may
// hold old bytes, and fio_realloc, which knows usable sizes and not requested ones, keeps
// them as contents.
struct Obj {
  char *p;
  size_t n;
  bool clean_tail;
};

enum class Op {
  kUninit,
  kMalloc,
  kCalloc,
  kAligned,
  kAlignedUninit,
  kRealloc,
  kRealloc2,
  kReallocUninit,
  kFree,
  kFreeNewest
};

// One random step against a model of the live objects: every object of the zero-asking
// calls is checked zero where the call promised it, and every object is then filled with
// its own pattern (uninit objects with dirt first), so that any zero-asking call later
// served from the same bytes would see them. Returns false on the first broken promise.
bool step(std::mt19937_64 &rng, std::vector<Obj> &live, size_t max_size) {
  std::uniform_int_distribution<size_t> size_dist(0, max_size);
  Op op = static_cast<Op>(rng() % 10);
  if (live.empty() && (op == Op::kFree || op == Op::kFreeNewest || op == Op::kRealloc ||
                       op == Op::kRealloc2 || op == Op::kReallocUninit))
    op = Op::kUninit;
  size_t n = size_dist(rng);
  switch (op) {
    case Op::kUninit:
    case Op::kMalloc:
    case Op::kCalloc:
    case Op::kAligned:
    case Op::kAlignedUninit: {
      size_t align = size_t{32} << (rng() % 4);
      char *p = static_cast<char *>(op == Op::kUninit    ? fio_malloc_uninit(n)
                                    : op == Op::kMalloc  ? fio_malloc(n)
                                    : op == Op::kCalloc  ? fio_calloc(1, n)
                                    : op == Op::kAligned ? fio_aligned_alloc(align, n)
                                                         : fio_aligned_alloc_uninit(align, n));
      if (!p) return false;
      bool zeroing = op == Op::kMalloc || op == Op::kCalloc || op == Op::kAligned;
      if (zeroing && first_nonzero(p, n) != n) {
        ADD_FAILURE() << "zero-asking allocation of " << n << " B (op " << static_cast<int>(op)
                      << ") holds old bytes at " << first_nonzero(p, n);
        return false;
      }
      if (!zeroing) std::memset(p, kDirt, n);
      fill_pattern(p, n);
      live.push_back({p, n, zeroing});
      return true;
    }
    case Op::kRealloc:
    case Op::kRealloc2:
    case Op::kReallocUninit: {
      size_t i = rng() % live.size();
      Obj &o = live[i];
      if (check_pattern(o.p, o.n) != o.n) {
        ADD_FAILURE() << "object changed before realloc";
        return false;
      }
      size_t valid = op == Op::kRealloc2 ? o.n / 2 : o.n;
      if (n == 0) n = 1;
      // The pattern depends on the address: keep a copy to compare after a move.
      std::vector<unsigned char> before(o.p, o.p + std::min(valid, n));
      size_t old_usable = fio_malloc_usable_size(o.p);
      char *q = static_cast<char *>(op == Op::kRealloc    ? fio_realloc(o.p, n)
                                    : op == Op::kRealloc2 ? fio_realloc2(o.p, n, valid)
                                                          : fio_realloc_uninit(o.p, n));
      if (!q) return false;
      size_t kept = before.size();
      if (kept && std::memcmp(q, before.data(), kept) != 0) {
        ADD_FAILURE() << "realloc lost the old contents";
        return false;
      }
      if (op == Op::kRealloc && !o.clean_tail) kept = std::min(n, std::max(kept, old_usable));
      if (op != Op::kReallocUninit && first_nonzero(q + kept, n - kept) != n - kept) {
        ADD_FAILURE() << "fio realloc " << o.n << " -> " << n << " (valid " << valid << "): byte "
                      << kept + first_nonzero(q + kept, n - kept)
                      << " past the kept ones is not zero";
        return false;
      }
      if (op == Op::kReallocUninit) std::memset(q, kDirt, n);
      fill_pattern(q, n);
      o = {q, n, op != Op::kReallocUninit};
      return true;
    }
    case Op::kFree:
    case Op::kFreeNewest: {
      size_t i = op == Op::kFreeNewest ? live.size() - 1 : rng() % live.size();
      if (check_pattern(live[i].p, live[i].n) != live[i].n) {
        ADD_FAILURE() << "object of " << live[i].n << " B was overwritten while live";
        return false;
      }
      fio_free(live[i].p);
      live[i] = live.back();
      live.pop_back();
      return true;
    }
  }
  return false;
}

void free_all(std::vector<Obj> &live) {
  for (Obj &o : live) fio_free(o.p);
  live.clear();
}

}  // namespace

// The simplest mix: a dirty malloc freed, then each zero-asking call served from the very
// same bytes (the freed newest slice goes back to the bump position).
TEST(Zeroing, ZeroAskingCallsReuseDirtyBytesZeroed) {
  on_fresh_thread([] {
    for (size_t n : {1, 16, 100, 256, 1000, 4096, 16384}) {
      char *d = static_cast<char *>(fio_malloc_uninit(n));
      std::memset(d, kDirt, n);
      fio_free(d);
      char *a = static_cast<char *>(fio_malloc(n));
      EXPECT_EQ(a, d) << "the freed newest slice is reused";
      EXPECT_EQ(first_nonzero(a, n), n) << "fio_malloc(" << n << ")";
      std::memset(a, kDirt, n);
      fio_free(a);
      char *c = static_cast<char *>(fio_calloc(n, 1));
      EXPECT_EQ(first_nonzero(c, n), n) << "fio_calloc(" << n << ")";
      std::memset(c, kDirt, n);
      fio_free(c);
      char *g = static_cast<char *>(fio_aligned_alloc(64, n));
      EXPECT_EQ(first_nonzero(g, n), n) << "fio_aligned_alloc(64, " << n << ")";
      fio_free(g);
    }
  });
}

// A block emptied by dirty mallocs is recycled; the zero-asking calls that slice it next,
// object by object and then in one run (more than FIO_ZERO_RUN_AFTER of them), read zero,
// and so do those after a dirty malloc in between.
TEST(Zeroing, RecycledDirtyBlocksServeZeroAskingCalls) {
  on_fresh_thread([] {
    constexpr size_t kObject = 200;
    std::vector<void *> objs;
    for (int i = 0; i < 2000; ++i) {
      void *p = fio_malloc_uninit(kObject);
      std::memset(p, kDirt, kObject);
      objs.push_back(p);
    }
    for (void *p : objs) fio_free(p);
    objs.clear();
    for (int i = 0; i < 2000; ++i) {
      bool dirty = i % 7 == 3;
      char *p = static_cast<char *>(dirty ? fio_malloc_uninit(kObject)
                                          : (i % 2 ? fio_calloc(kObject, 1) : fio_malloc(kObject)));
      if (!dirty) {
        ASSERT_EQ(first_nonzero(p, kObject), kObject) << "object " << i;
      }
      std::memset(p, kDirt, kObject);
      objs.push_back(p);
      if (i % 11 == 5) {  // an alloc/free pair in between marks bytes old again
        void *q = fio_malloc_uninit(3 * kObject);
        std::memset(q, kDirt, 3 * kObject);
        fio_free(q);
      }
    }
    for (void *p : objs) fio_free(p);
  });
}

// fio_realloc growing the last slice in place over bytes a dirty malloc used before.
TEST(Zeroing, InPlaceGrowthOverDirtyBytesReadsZero) {
  on_fresh_thread([] {
    char *d = static_cast<char *>(fio_malloc_uninit(8000));
    std::memset(d, kDirt, 8000);
    fio_free(d);
    char *p = static_cast<char *>(fio_malloc(16));
    std::memset(p, 7, 16);
    char *q = static_cast<char *>(fio_realloc(p, 6000));
    EXPECT_EQ(q, p) << "the newest slice grows in place";
    EXPECT_EQ(first_nonzero(q + 16, 6000 - 16), 6000u - 16);
    char *r = static_cast<char *>(fio_realloc2(q, 7900, 8));
    EXPECT_EQ(first_nonzero(r + 8, 7900 - 8), 7900u - 8) << "past copy_length reads zero";
    fio_free(r);
  });
}

// A big mapping freed by a dirty user comes back from the cache: zeroed for fio_malloc,
// as it is for malloc.
TEST(Zeroing, CachedBigMappingIsZeroedForZeroAskingCalls) {
  on_fresh_thread([] {
    constexpr size_t kBig = 300000;
    char *d = static_cast<char *>(fio_malloc_uninit(kBig));
    std::memset(d, kDirt, kBig);
    fio_free(d);
    char *p = static_cast<char *>(fio_malloc(kBig));
    EXPECT_EQ(first_nonzero(p, kBig), kBig);
    std::memset(p, kDirt, kBig);
    fio_free(p);
    char *u = static_cast<char *>(fio_malloc_uninit(kBig));
    ASSERT_NE(u, nullptr);
    std::memset(u, kDirt, kBig);
    char *g = static_cast<char *>(fio_realloc(u, 2 * kBig));
    EXPECT_EQ(first_nonzero(g + kBig, kBig), kBig) << "the tail fio_realloc adds";
    fio_free(g);
  });
}

// C calloc (fio_calloc_uninit) zeroes the bytes asked for, whatever the memory held: a
// reused middle-tier run, a reused cached mapping, a small slice; fio_calloc zeroes the
// whole usable size, so that a later growth within it reads zero too.
TEST(Zeroing, CallocUninitZeroesWhatWasAskedAndFioCallocEverything) {
  on_fresh_thread([] {
    for (size_t n : {size_t{100}, size_t{65536}, size_t{300000}, size_t{6000000}}) {
      char *d = static_cast<char *>(fio_malloc_uninit(n));
      ASSERT_NE(d, nullptr);
      std::memset(d, kDirt, fio_malloc_usable_size(d));
      fio_free(d);
      char *c = static_cast<char *>(fio_calloc_uninit(1, n));
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(first_nonzero(c, n), n) << n << " bytes from fio_calloc_uninit";
      std::memset(c, kDirt, fio_malloc_usable_size(c));
      fio_free(c);
      char *z = static_cast<char *>(fio_calloc(1, n));
      ASSERT_NE(z, nullptr);
      size_t u = fio_malloc_usable_size(z);
      EXPECT_EQ(first_nonzero(z, u), u) << "the usable size of fio_calloc(" << n << ")";
      fio_free(z);
    }
    EXPECT_EQ(fio_calloc_uninit(SIZE_MAX / 2, 4), nullptr);
    EXPECT_EQ(errno, ENOMEM);
  });
}

// Random mixes of both families on one thread, small and up to a few blocks' worth.
TEST(Zeroing, RandomMixOnOneThreadKeepsEveryPromise) {
  on_fresh_thread([] {
    for (size_t max_size : {size_t{64}, size_t{600}, size_t{20000}}) {
      std::mt19937_64 rng(max_size);
      std::vector<Obj> live;
      int steps = fio_test::kAsan || fio_test::kTsan ? 4000 : 30000;
      for (int i = 0; i < steps; ++i) {
        if (!step(rng, live, max_size)) {
          ADD_FAILURE() << "step " << i << " max size " << max_size;
          break;
        }
        if (live.size() > 400) free_all(live);
      }
      free_all(live);
    }
  });
}

// Threads that mix both families and free each other's objects: blocks dirtied on one
// thread are recycled and sliced by others.
TEST(Zeroing, RandomMixAcrossThreadsKeepsEveryPromise) {
  constexpr int kThreads = 4;
  std::mutex m;
  std::vector<Obj> shared;
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  int steps = fio_test::kAsan || fio_test::kTsan ? 3000 : 20000;
  for (int id = 0; id < kThreads; ++id) {
    threads.emplace_back([&, id] {
      std::mt19937_64 rng(1000 + id);
      std::vector<Obj> live;
      for (int i = 0; i < steps && ok.load(); ++i) {
        if (!step(rng, live, 2000)) {
          ok = false;
          break;
        }
        if (live.size() > 200) {
          // Half of them go to another thread, which frees them.
          std::lock_guard<std::mutex> g(m);
          for (size_t k = 0; k < live.size(); k += 2) shared.push_back(live[k]);
          std::vector<Obj> rest;
          for (size_t k = 1; k < live.size(); k += 2) rest.push_back(live[k]);
          live.swap(rest);
        }
        if (i % 64 == 0) {
          std::vector<Obj> theirs;
          {
            std::lock_guard<std::mutex> g(m);
            theirs.swap(shared);
          }
          for (Obj &o : theirs) {
            if (check_pattern(o.p, o.n) != o.n) {
              ADD_FAILURE() << "object handed over was overwritten";
              ok = false;
            }
            fio_free(o.p);
          }
        }
      }
      free_all(live);
    });
  }
  for (auto &t : threads) t.join();
  for (Obj &o : shared) fio_free(o.p);
  EXPECT_TRUE(ok.load());
}

// Sparse blocks (sparse_test.cpp) sliced again through their holes by zero-asking calls:
// runs of alloc/free pairs that zero a hole's old bytes in one go, dirty objects kept
// in between, and slicing moving on from hole to hole and block to block. Every
// zero-asking call reads zero, and a run of pairs zeroes the hole once, not per pair
// (which made a pair of calloc(16)/free cost a 32 KiB memset).
TEST(Zeroing, HolesOfSparseBlocksServeZeroAskingCalls) {
  on_fresh_thread([] {
    std::mt19937_64 rng(23);
    std::uniform_int_distribution<size_t> size(16, 512);
    std::vector<std::pair<char *, size_t>> kept, group;
    for (int round = 0; round < 60; ++round) {
      for (int i = 0; i < 1024; ++i) {
        size_t n = size(rng);
        char *p = static_cast<char *>(fio_malloc_uninit(n));
        ASSERT_NE(p, nullptr);
        std::memset(p, kDirt, n);
        group.emplace_back(p, n);
      }
      for (size_t i = 0; i < group.size(); ++i) {
        if (i % 64 == 0) {
          kept.push_back(group[i]);
        } else {
          fio_free(group[i].first);
        }
      }
      group.clear();
      // Zero-asking calls into what is free now (holes among the survivors).
      for (int i = 0; i < 300; ++i) {
        size_t n = size(rng);
        const bool pair = i % 3 != 0;
        char *p = static_cast<char *>(i % 2 ? fio_calloc(n, 1) : fio_malloc(n));
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(first_nonzero(p, n), n) << "round " << round << ", call " << i;
        std::memset(p, kDirt, n);
        if (pair) {
          fio_free(p);
        } else {
          kept.emplace_back(p, n);
        }
      }
    }
    for (auto &[p, n] : kept) fio_free(p);
  });
}
