// Concurrency stress: threads with random lifetimes exchange objects through a shared
// array, so objects are freed by threads other than their allocator, sometimes after
// that thread has exited. Every object carries a pattern derived from its address and
// size, checked before it is freed.
//
// FIO_STRESS_THREADS (default 2 x cores) and FIO_STRESS_SCALE (default 1) scale it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "test_util.h"

using namespace fio_test;

namespace {

struct Slot {
  std::atomic<void *> ptr{nullptr};
  std::atomic<size_t> size{0};
};

class Exchange {
 public:
  explicit Exchange(size_t n) : slots_(n) {}
  // Puts p in slot i and returns what was there (to be checked and freed by the caller).
  void *swap(size_t i, void *p, size_t size, size_t *old_size) {
    // Size travels with the pointer: a slot is claimed by taking its pointer.
    void *old;
    do {
      old = slots_[i].ptr.load(std::memory_order_acquire);
      if (old == kBusy) continue;
    } while (old == kBusy ||
             !slots_[i].ptr.compare_exchange_weak(old, kBusy, std::memory_order_acq_rel));
    *old_size = slots_[i].size.load(std::memory_order_relaxed);
    slots_[i].size.store(size, std::memory_order_relaxed);
    slots_[i].ptr.store(p, std::memory_order_release);
    return old;
  }
  size_t size() const { return slots_.size(); }

 private:
  static inline void *const kBusy = reinterpret_cast<void *>(1);
  std::vector<Slot> slots_;
};

size_t random_size(std::mt19937_64 &rng) {
  unsigned r = rng() % 100;
  if (r < 80) return 1 + rng() % 512;      // the design point
  if (r < 97) return 513 + rng() % 16000;  // up to the big limit
  return 16385 + rng() % 200000;           // big allocations
}

void check_and_free(void *p, size_t size) {
  if (!p) return;
  size_t bad = check_pattern(p, size);
  if (bad != size) {
    ADD_FAILURE() << "object " << p << " of " << size << " bytes corrupted at byte " << bad;
  }
  fio_free(p);
}

void *alloc_filled(std::mt19937_64 &rng, size_t *size) {
  *size = random_size(rng);
  void *p;
  switch (rng() % 8) {
    case 0:
      p = fio_calloc(1, *size);
      break;
    case 1:
      p = fio_aligned_alloc(64, *size);
      break;
    default:
      p = fio_malloc(*size);
      break;
  }
  if (!p) {
    ADD_FAILURE() << "allocation of " << *size << " bytes failed";
    return nullptr;
  }
  if (first_nonzero(p, *size) != *size) ADD_FAILURE() << "fresh object " << p << " not zeroed";
  fill_pattern(p, *size);
  return p;
}

void worker(Exchange &ex, uint64_t seed, long ops) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<void *, size_t>> local;
  for (long i = 0; i < ops; ++i) {
    unsigned action = rng() % 10;
    size_t size = 0;
    if (action < 5) {  // a local group, freed together later
      void *p = alloc_filled(rng, &size);
      local.emplace_back(p, size);
      if (local.size() > 300 || rng() % 50 == 0) {
        for (auto &o : local) check_and_free(o.first, o.second);
        local.clear();
      }
    } else if (action < 9) {  // exchange with other threads
      void *p = alloc_filled(rng, &size);
      size_t old_size;
      void *old = ex.swap(rng() % ex.size(), p, size, &old_size);
      check_and_free(old, old_size);
    } else if (!local.empty()) {  // realloc keeps the pattern's prefix
      auto &o = local[rng() % local.size()];
      size_t n = random_size(rng);
      size_t keep = n < o.second ? n : o.second;
      void *q = fio_realloc(o.first, n);
      if (!q) {
        ADD_FAILURE() << "realloc failed";
        continue;
      }
      // The pattern depends on the address: check the moved prefix against the old one.
      auto *c = static_cast<unsigned char *>(q);
      for (size_t k = 0; k < keep; ++k)
        if (c[k] != pattern_byte(o.first, k)) {
          ADD_FAILURE() << "realloc lost byte " << k;
          break;
        }
      if (first_nonzero(c + keep, n - keep) != n - keep) ADD_FAILURE() << "realloc tail not zero";
      fill_pattern(q, n);
      o = {q, n};
    }
  }
  // The thread's group goes; its objects in the exchange outlive it.
  for (auto &o : local) check_and_free(o.first, o.second);
}

TEST(Stress, ThreadsExchangeObjectsAndExitWhileTheyLive) {
  unsigned cores = std::thread::hardware_concurrency();
  long threads = env_long("FIO_STRESS_THREADS", 2 * (cores ? cores : 2));
  long scale = env_long("FIO_STRESS_SCALE", 1);
  long ops = 4000 * scale / (kTsan ? 16 : kAsan ? 2 : 1);
  const int generations = 4;  // threads end and new ones start while objects live on
  Exchange ex(1024);
  fio_malloc_stats_t s0 = stats();
  for (int g = 0; g < generations; ++g) {
    std::vector<std::thread> pool;
    for (long t = 0; t < threads; ++t)
      pool.emplace_back(worker, std::ref(ex), 1000003 * g + 7919 * t + 1,
                        ops / generations * (1 + t % 3));
    for (auto &t : pool) t.join();
  }
  for (size_t i = 0; i < ex.size(); ++i) {
    size_t size = 0;
    check_and_free(ex.swap(i, nullptr, 0, &size), size);
  }
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.allocations - s0.allocations, s1.frees - s0.frees);
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
  EXPECT_EQ(s1.big_allocations, s0.big_allocations);
}

// Producer/consumer: every free is cross-thread, in batches of one block after another.
TEST(Stress, ProducerConsumerFreesEverythingRemotely) {
  long rounds = 200 / (kTsan ? 8 : 1);
  constexpr int kBatch = 512;
  std::atomic<void **> mailbox{nullptr};
  std::thread producer([&] {
    std::mt19937_64 rng(42);
    for (long r = 0; r < rounds; ++r) {
      void **batch = static_cast<void **>(fio_malloc(sizeof(void *) * kBatch));
      for (int i = 0; i < kBatch; ++i) {
        size_t n = 16 + rng() % 497;
        batch[i] = fio_malloc(n);
        fill_pattern(batch[i], 16);
      }
      void **expected = nullptr;
      while (!mailbox.compare_exchange_weak(expected, batch)) {
        expected = nullptr;
        std::this_thread::yield();
      }
    }
  });
  std::thread consumer([&] {
    for (long r = 0; r < rounds; ++r) {
      void **batch;
      while (!(batch = mailbox.exchange(nullptr))) std::this_thread::yield();
      for (int i = 0; i < kBatch; ++i) {
        ASSERT_EQ(check_pattern(batch[i], 16), 16u);
        fio_free(batch[i]);
      }
      fio_free(batch);
    }
  });
  producer.join();
  consumer.join();
}

// Many more threads than CPUs, each cycling more blocks than its cache keeps, so that
// every round pushes blocks to the shared pool and takes them back under the shards'
// locks, often while a holder is preempted: waiters then sleep and must be woken (a lost
// wake-up hangs this test).
TEST(Stress, ThreadsBeyondTheCpusShareThePoolsLocks) {
  unsigned cores = std::thread::hardware_concurrency();
  long threads = 8 * (cores ? cores : 2);
  long rounds = 24 / (kTsan || kAsan ? 6 : 1);
  // Twice a thread cache's worth of blocks per round, in objects of 512 B.
  const size_t per_round = 2 * (FIO_TEST_THREAD_CACHE_BLOCKS + 1) * (FIO_TEST_BLOCK_SIZE / 512);
  fio_malloc_stats_t s0 = stats();
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      std::vector<void *> objs(per_round);
      for (long r = 0; r < rounds; ++r) {
        for (void *&p : objs) {
          p = fio_malloc(512);
          ASSERT_NE(p, nullptr);
          fill_pattern(p, 16);
        }
        for (void *p : objs) {
          ASSERT_EQ(check_pattern(p, 16), 16u);
          fio_free(p);
        }
      }
    });
  }
  for (auto &th : pool) th.join();
  fio_malloc_stats_t s1 = stats();
  EXPECT_EQ(s1.allocations - s0.allocations, s1.frees - s0.frees);
  EXPECT_EQ(s1.live_bytes, s0.live_bytes);
  EXPECT_EQ(s1.blocks_in_use, s0.blocks_in_use);
}

}  // namespace
