// Shared parts of the workloads: the content pattern, per-thread counters, the stop
// condition (operations or duration) and the thread team that times the measured phase.
//
// A workload's run() usually is:
//
//   WorkloadResult run(const RunConfig &config) const override {
//     return run_threads(config, config.threads, even_split(config, default_ops()),
//                        [&](ThreadContext &ctx) {
//                          while (std::uint64_t left = ctx.remaining()) { ... }
//                        });
//   }
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "allocbench/workload.h"

namespace allocbench {

// ---------------------------------------------------------------------------------------
// Content pattern
//
// Every object is filled with bytes that depend on a key and on the byte's offset, and
// verified before it is freed. The key mixes the object's address with an id unique to the
// allocation, so two live objects never share a pattern (an allocator that hands out
// overlapping memory is caught), and the same address reused later gets a new pattern.
// Buffers that move (realloc) use a key from their id alone, so the content stays valid
// across the move. The pattern is a function of the offset, so a growing buffer can be
// filled piece by piece (pattern_fill_range) and still match pattern_check.

std::uint64_t pattern_key(const void *object, std::uint64_t id);
// A key for a buffer that may move: depends on the id only.
std::uint64_t pattern_key(std::uint64_t id);

void pattern_fill(void *object, std::size_t size, std::uint64_t key);
// Writes bytes [begin, end) of the pattern of `key`.
void pattern_fill_range(void *object, std::size_t begin, std::size_t end, std::uint64_t key);

struct PatternMismatch {
  std::size_t offset;
  std::uint8_t expected;
  std::uint8_t found;
};

// The first byte (lowest offset) that does not hold the pattern, if any.
std::optional<PatternMismatch> pattern_check(const void *object, std::size_t size,
                                             std::uint64_t key);
std::optional<PatternMismatch> pattern_check_range(const void *object, std::size_t begin,
                                                   std::size_t end, std::uint64_t key);
// The first byte that is not zero (memory from calloc), if any.
std::optional<PatternMismatch> zero_check(const void *object, std::size_t size);

// "content check failed: <what> at 0x... (N bytes): byte at offset K is 0x.., expected 0x.."
std::string describe_mismatch(std::string_view what, const void *object, std::size_t size,
                              const PatternMismatch &mismatch);

// ---------------------------------------------------------------------------------------
// Touch levels (allocbench/workload.h: Touch)
//
// The pattern written at a level is the same pattern, only on fewer bytes, so a check at
// the level the object was written with is exact. A key from pattern_key() also says
// whether its object is one of the 1 in 16 that every level writes whole.

// The level of a run: its `touch` parameter, or full for values that carry none (a
// RunConfig built by hand).
Touch touch_level(const ParamValues &params);

// Writes the bytes of an object of `size` bytes that `touch` marks, with the pattern of
// `key`; the _range forms only those in [begin, end) (a buffer filled piece by piece, a
// part of the object that holds something else), so that pieces written one by one and
// the object checked whole, or a prefix of it, agree.
void touch_fill(Touch touch, void *object, std::size_t size, std::uint64_t key);
void touch_fill_range(Touch touch, void *object, std::size_t size, std::size_t begin,
                      std::size_t end, std::uint64_t key);
// The first marked byte (lowest offset) that does not hold the pattern, if any.
std::optional<PatternMismatch> touch_check(Touch touch, const void *object, std::size_t size,
                                           std::uint64_t key);
std::optional<PatternMismatch> touch_check_range(Touch touch, const void *object, std::size_t size,
                                                 std::size_t begin, std::size_t end,
                                                 std::uint64_t key);

// ---------------------------------------------------------------------------------------
// Counters

// One thread's operation counts. Cache-line aligned so that threads never share a line.
// The peak is this thread's own peak of live requested bytes; a run reports the sum of
// its threads' peaks, an upper bound of the true simultaneous peak that equals it when
// every thread holds its peak at the same time (the steady state of these workloads).
struct alignas(64) ThreadCounters {
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t live_bytes = 0;
  std::uint64_t peak_live_bytes = 0;

  void on_alloc(std::size_t bytes) {
    ++allocs;
    live_bytes += bytes;
    if (live_bytes > peak_live_bytes) peak_live_bytes = live_bytes;
  }
  void on_free(std::size_t bytes) {
    ++frees;
    live_bytes -= bytes;
  }
  // realloc is one allocating call that changes a live object's size.
  void on_realloc(std::size_t old_bytes, std::size_t new_bytes) {
    ++allocs;
    live_bytes = live_bytes - old_bytes + new_bytes;
    if (live_bytes > peak_live_bytes) peak_live_bytes = live_bytes;
  }
  std::uint64_t ops() const { return allocs + frees; }
};

// Live bytes shared by threads, for workloads whose objects are freed by another thread
// than the one that allocated them. Update it per batch, not per object.
class SharedLiveBytes {
 public:
  void add(std::uint64_t bytes);
  void sub(std::uint64_t bytes) { live_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  alignas(64) std::atomic<std::uint64_t> live_{0};
  alignas(64) std::atomic<std::uint64_t> peak_{0};
};

// ---------------------------------------------------------------------------------------
// Failure: the first failed check of a run, shared by its threads.

class RunFailure {
 public:
  // Keeps the first message; every thread sees failed() soon after and stops.
  void fail(std::string message);
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::string message() const;

 private:
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;
  std::string message_;
};

// ---------------------------------------------------------------------------------------
// Stop condition

// Total operations of a run: config.ops, or the workload's default when it is 0 (and no
// duration is given).
std::uint64_t total_ops(const RunConfig &config, std::uint64_t default_ops);
// Part `index` of `total` split evenly over `parts` (the first total % parts get one more).
std::uint64_t split_ops(std::uint64_t total, unsigned parts, unsigned index);

// Decides when a thread stops: after its share of operations, or, when the run has a
// duration, once the deadline has passed. Under run_threads the deadline is a flag that
// the run's own thread sets when the duration has passed, so a thread stops within one
// operation of it however slow its operations are (large objects). On its own, a
// StopCondition reads the clock at most every kClockInterval operations, fewer when
// operations are slow. A failed run stops everyone.
class StopCondition {
 public:
  static constexpr std::uint64_t kClockInterval = 256;
  // What remaining() returns while a timed run is before its deadline.
  static constexpr std::uint64_t kUnbounded = std::uint64_t{1} << 62;

  StopCondition(std::uint64_t ops_budget, double duration_s, const RunFailure *failure);
  // Starts the clock of a timed run (at the start of the measured phase). With
  // `expired`, the run's deadline is that flag (set by whoever keeps the run's time, as
  // run_threads does), read on every call instead of the clock.
  void start(const std::atomic<bool> *expired = nullptr);
  // Operations this thread may still do, given how many it has done: 0 means stop.
  std::uint64_t remaining(std::uint64_t ops_done);
  bool timed() const { return duration_s_ > 0; }
  std::uint64_t budget() const { return budget_; }

 private:
  std::uint64_t budget_;
  double duration_s_;
  const RunFailure *failure_;
  const std::atomic<bool> *expired_flag_ = nullptr;
  std::int64_t deadline_ns_ = 0;
  std::int64_t last_check_ns_ = 0;
  std::uint64_t next_check_ = 0;
  std::uint64_t interval_ = 1;
  bool expired_ = false;
};

// ---------------------------------------------------------------------------------------
// Thread team

// What one thread of a run has: its index, its own deterministic random numbers
// (seeded from the run's seed and the index), its counters and its stop condition.
struct ThreadContext {
  ThreadContext(const RunConfig &run_config, unsigned thread_index, unsigned thread_count,
                std::uint64_t ops_budget, RunFailure &run_failure);

  const RunConfig &config;
  const MemoryApi &mem;
  unsigned index;
  unsigned threads;
  Rng rng;
  ThreadCounters counters;
  StopCondition stop;
  RunFailure &failure;
  Touch touch;                          // how much of each object is written and checked
  std::map<std::string, double> extra;  // summed over threads into WorkloadResult::extra

  // Operations this thread may still do (0: stop).
  std::uint64_t remaining() { return stop.remaining(counters.ops()); }
  bool failed() const { return failure.failed(); }
  void fail(std::string message) { failure.fail(std::move(message)); }
  // A fresh id for an object's pattern key, unique across the run's threads.
  std::uint64_t next_id() { return (std::uint64_t{index} << 40) | ++id_counter_; }

 private:
  std::uint64_t id_counter_ = 0;
};

// ---------------------------------------------------------------------------------------
// Objects: allocate-and-write, check-and-free, through the thread's MemoryApi and counters.

struct LiveObject {
  void *ptr = nullptr;
  std::size_t size = 0;
  std::uint64_t key = 0;
};

// Allocates `size` bytes with malloc, fills them with the object's pattern (as much of it
// as the run's touch level writes) and counts the allocation. False when the allocator returned
// NULL: the run has then failed.
bool allocate_object(ThreadContext &ctx, std::size_t size, LiveObject &object);
// The same with calloc(1, size); the memory is checked to be zero before it is written.
bool allocate_zeroed_object(ThreadContext &ctx, std::size_t size, LiveObject &object);
// Verifies the object's pattern, then frees it and counts the free. On a mismatch the run
// fails and the object is not freed (a heap that corrupts objects is not trusted further).
bool free_object(ThreadContext &ctx, const LiveObject &object);

// The seed of thread `index` of a run seeded with `seed`.
std::uint64_t thread_seed(std::uint64_t seed, unsigned index);

// Budgets: thread index -> its operation budget. even_split() shares total_ops(config,
// default_ops) among all threads.
using BudgetFn = std::function<std::uint64_t(unsigned index)>;
BudgetFn even_split(const RunConfig &config, std::uint64_t default_ops);

// Runs `run` and turns an exception that escapes it (a parameter that was not bound, the
// workload's own bookkeeping running out of memory) into a failed result, so that a
// workload's run() never throws.
WorkloadResult guard_run(const std::function<WorkloadResult()> &run);

// Starts `threads` threads, lets each run `body` once all have started, and reports the
// wall time from that start to the end of the last thread (thread exit included), the
// summed counters, the summed `extra` figures and the first failure. An exception thrown
// by a body becomes the run's failure; nothing here aborts. Either every thread runs
// `body` or none does (a thread that could not start fails the run before the release),
// so bodies may meet at barriers sized `threads`. A timed run's threads see their
// deadline (ctx.remaining() == 0) at most one operation after the duration has passed.
WorkloadResult run_threads(const RunConfig &config, unsigned threads, const BudgetFn &budget,
                           const std::function<void(ThreadContext &)> &body);

}  // namespace allocbench
