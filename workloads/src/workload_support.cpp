#include "allocbench/workload_support.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace allocbench {

// ---------------------------------------------------------------------------------------
// Content pattern
//
// Word w of an object (bytes 8w..8w+7, little-endian) holds key + w * kStep. Writing and
// checking run at memory speed; a linear pattern never repeats within an object, so a
// region written twice (overlap) or copied to the wrong place shows.

namespace {

constexpr std::uint64_t kStep = 0x9E3779B97F4A7C15ull;

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::uint64_t word_at(std::uint64_t key, std::size_t word) {
  return key + word * kStep;
}

inline std::uint8_t byte_at(std::uint64_t key, std::size_t offset) {
  return static_cast<std::uint8_t>(word_at(key, offset / 8) >> (8 * (offset % 8)));
}

// The 8 pattern bytes from `offset` on, as one little-endian word (any alignment).
inline std::uint64_t window_at(std::uint64_t key, std::size_t offset) {
  const std::uint64_t low = word_at(key, offset / 8);
  const unsigned shift = 8 * static_cast<unsigned>(offset % 8);
  return shift == 0 ? low : (low >> shift) | ((low + kStep) << (64 - shift));
}

// Bit 0 of a key: its object is written and checked whole at every touch level. Chosen
// from the id alone (the top 4 bits of its mix: 1 in 16), so that the same objects are
// chosen in every run (counted mode repeats exactly) whatever addresses the allocator
// hands out.
constexpr std::uint64_t kWholeBit = 1;

std::uint64_t with_whole_bit(std::uint64_t key, std::uint64_t id_mix) {
  return (key & ~kWholeBit) | ((id_mix >> 60) == 0 ? kWholeBit : 0);
}

}  // namespace

std::uint64_t pattern_key(const void *object, std::uint64_t id) {
  const std::uint64_t id_mix = mix64(id + kStep);
  return with_whole_bit(mix64(reinterpret_cast<std::uintptr_t>(object) ^ id_mix), id_mix);
}

std::uint64_t pattern_key(std::uint64_t id) {
  const std::uint64_t id_mix = mix64(id + kStep);
  return with_whole_bit(id_mix, id_mix);
}

void pattern_fill(void *object, std::size_t size, std::uint64_t key) {
  pattern_fill_range(object, 0, size, key);
}

void pattern_fill_range(void *object, std::size_t begin, std::size_t end, std::uint64_t key) {
  auto *bytes = static_cast<unsigned char *>(object);
  if (end - begin < 8 || begin >= end) {
    for (std::size_t i = begin; i < end; ++i) bytes[i] = byte_at(key, i);
    return;
  }
  // An unaligned head and tail are one 8-byte store each (overlapping the words, with
  // the same bytes); the words between are an additive induction (not a multiply per
  // word), so that the compiler vectorizes it.
  std::uint64_t window = window_at(key, begin);
  std::memcpy(bytes + begin, &window, sizeof window);
  window = window_at(key, end - 8);
  std::memcpy(bytes + end - 8, &window, sizeof window);
  if (end - begin <= 16) return;  // a mark or an end: the two windows cover it
  const std::size_t first = (begin + 7) / 8 * 8;
  const std::size_t words = (end - first) / 8;
  std::uint64_t word = word_at(key, first / 8);
  unsigned char *out = bytes + first;
  for (std::size_t w = 0; w < words; ++w, word += kStep) {
    std::memcpy(out + 8 * w, &word, sizeof word);
  }
}

std::optional<PatternMismatch> pattern_check(const void *object, std::size_t size,
                                             std::uint64_t key) {
  return pattern_check_range(object, 0, size, key);
}

std::optional<PatternMismatch> pattern_check_range(const void *object, std::size_t begin,
                                                   std::size_t end, std::uint64_t key) {
  const auto *bytes = static_cast<const unsigned char *>(object);
  auto first_mismatch = [&](std::size_t from, std::size_t to) -> std::optional<PatternMismatch> {
    for (std::size_t j = from; j < to; ++j) {
      const std::uint8_t expected = byte_at(key, j);
      if (bytes[j] != expected) return PatternMismatch{j, expected, bytes[j]};
    }
    return std::nullopt;
  };
  if (begin >= end) return std::nullopt;
  if (end - begin < 8) return first_mismatch(begin, end);
  // The head and the tail as one 8-byte window each, the words between in chunks that OR
  // the differences (vectorizes); the byte is located only on failure.
  auto window_differs = [&](std::size_t at) {
    std::uint64_t window;
    std::memcpy(&window, bytes + at, sizeof window);
    return window != window_at(key, at);
  };
  if (window_differs(begin)) return first_mismatch(begin, begin + 8);
  if (end - begin <= 16) {  // a mark or an end: the two windows cover it
    if (window_differs(end - 8)) return first_mismatch(end - 8, end);
    return std::nullopt;
  }
  std::size_t i = (begin + 7) / 8 * 8;
  constexpr std::size_t kChunk = 256;
  while (i + 8 <= end) {
    const std::size_t chunk_end = i + std::min(kChunk, (end - i) / 8 * 8);
    std::uint64_t difference = 0;
    std::uint64_t expected = word_at(key, i / 8);
    const unsigned char *in = bytes + i;
    const std::size_t words = (chunk_end - i) / 8;
    for (std::size_t w = 0; w < words; ++w, expected += kStep) {
      std::uint64_t word;
      std::memcpy(&word, in + 8 * w, sizeof word);
      difference |= word ^ expected;
    }
    if (difference != 0) return first_mismatch(i, chunk_end);
    i = chunk_end;
  }
  if (window_differs(end - 8)) return first_mismatch(end - 8, end);
  return std::nullopt;
}

std::optional<PatternMismatch> zero_check(const void *object, std::size_t size) {
  const auto *bytes = static_cast<const unsigned char *>(object);
  constexpr std::size_t kChunk = 256;
  for (std::size_t i = 0; i < size; i += kChunk) {
    const std::size_t chunk_end = std::min(size, i + kChunk);
    unsigned char any = 0;
    for (std::size_t j = i; j < chunk_end; ++j) any |= bytes[j];
    if (any != 0) {
      for (std::size_t j = i; j < chunk_end; ++j) {
        if (bytes[j] != 0) return PatternMismatch{j, 0, bytes[j]};
      }
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Touch levels

namespace {

constexpr std::size_t kTouchEdge = 16;  // bytes marked at each end below full
constexpr std::size_t kWord = 8;

// The distance between marked words at `touch` (0: none between the ends).
std::size_t touch_stride(Touch touch) {
  switch (touch) {
    case Touch::kLines:
      return 64;
    case Touch::kPages:
      return 4096;
    case Touch::kFull:
    case Touch::kEnds:
      break;
  }
  return 0;
}

// Calls visit(lo, hi) for each run of bytes that `touch` marks in an object of `size`
// bytes, clipped to [begin, end), in increasing order; stops at the first that returns
// true and returns it.
template <typename Visit>
bool for_each_marked(Touch touch, std::size_t size, std::size_t begin, std::size_t end,
                     std::uint64_t key, Visit visit) {
  end = std::min(end, size);
  if (begin >= end) return false;
  if (touch == Touch::kFull || (key & kWholeBit) != 0 || size <= 2 * kTouchEdge)
    return visit(begin, end);
  auto clipped = [&](std::size_t lo, std::size_t hi) {
    lo = std::max(lo, begin);
    hi = std::min(hi, end);
    return lo < hi && visit(lo, hi);
  };
  const std::size_t tail = size - kTouchEdge;
  if (clipped(0, kTouchEdge)) return true;
  if (const std::size_t stride = touch_stride(touch); stride != 0) {
    // Marked words strictly between the ends, from the one `begin` falls in (a piece may
    // start inside a word).
    std::size_t at = std::max(stride, begin / stride * stride);
    for (; at < tail && at < end; at += stride) {
      if (clipped(at, std::min(at + kWord, tail))) return true;
    }
  }
  return clipped(tail, size);
}

// A whole object below full (the common case) goes without the visitor: its ends as two
// 8-byte windows each, and the marked words between.
bool marks_only(Touch touch, std::size_t size, std::uint64_t key) {
  return touch != Touch::kFull && (key & kWholeBit) == 0 && size > 2 * kTouchEdge;
}

}  // namespace

Touch touch_level(const ParamValues &params) {
  for (const auto &[name, value] : params.items()) {
    if (name != "touch") continue;
    if (const auto touch = parse_touch(value)) return *touch;
    throw std::invalid_argument(
        fmt::format("touch is '{}' (accepted: full, lines, pages, ends)", value));
  }
  return Touch::kFull;
}

void touch_fill(Touch touch, void *object, std::size_t size, std::uint64_t key) {
  if (!marks_only(touch, size, key)) return pattern_fill_range(object, 0, size, key);
  auto *bytes = static_cast<unsigned char *>(object);
  auto store = [&](std::size_t at, std::uint64_t value) {
    std::memcpy(bytes + at, &value, sizeof value);
  };
  store(0, word_at(key, 0));
  store(kWord, word_at(key, 1));
  const std::size_t tail = size - kTouchEdge;
  if (const std::size_t stride = touch_stride(touch); stride != 0)
    for (std::size_t at = stride; at < tail; at += stride) store(at, word_at(key, at / kWord));
  store(tail, window_at(key, tail));
  store(tail + kWord, window_at(key, tail + kWord));
}

void touch_fill_range(Touch touch, void *object, std::size_t size, std::size_t begin,
                      std::size_t end, std::uint64_t key) {
  for_each_marked(touch, size, begin, end, key, [&](std::size_t lo, std::size_t hi) {
    pattern_fill_range(object, lo, hi, key);
    return false;
  });
}

std::optional<PatternMismatch> touch_check(Touch touch, const void *object, std::size_t size,
                                           std::uint64_t key) {
  if (marks_only(touch, size, key)) {
    const auto *bytes = static_cast<const unsigned char *>(object);
    auto differs = [&](std::size_t at, std::uint64_t expected) {
      std::uint64_t value;
      std::memcpy(&value, bytes + at, sizeof value);
      return value != expected;
    };
    const std::size_t tail = size - kTouchEdge;
    bool bad = differs(0, word_at(key, 0)) || differs(kWord, word_at(key, 1)) ||
               differs(tail, window_at(key, tail)) ||
               differs(tail + kWord, window_at(key, tail + kWord));
    if (const std::size_t stride = touch_stride(touch); stride != 0)
      for (std::size_t at = stride; at < tail && !bad; at += stride)
        bad = differs(at, word_at(key, at / kWord));
    if (!bad) return std::nullopt;  // else the visitor finds the first bad byte
  }
  return touch_check_range(touch, object, size, 0, size, key);
}

std::optional<PatternMismatch> touch_check_range(Touch touch, const void *object, std::size_t size,
                                                 std::size_t begin, std::size_t end,
                                                 std::uint64_t key) {
  std::optional<PatternMismatch> mismatch;
  for_each_marked(touch, size, begin, end, key, [&](std::size_t lo, std::size_t hi) {
    mismatch = pattern_check_range(object, lo, hi, key);
    return mismatch.has_value();
  });
  return mismatch;
}

std::string describe_mismatch(std::string_view what, const void *object, std::size_t size,
                              const PatternMismatch &mismatch) {
  return fmt::format(
      "content check failed: {} at {} ({} bytes): byte at offset {} is 0x{:02x}, expected "
      "0x{:02x}",
      what, object, size, mismatch.offset, mismatch.found, mismatch.expected);
}

// ---------------------------------------------------------------------------------------
// Counters and failure

void SharedLiveBytes::add(std::uint64_t bytes) {
  const std::uint64_t now = live_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::uint64_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void RunFailure::fail(std::string message) {
  std::lock_guard lock(mutex_);
  if (!failed_.load(std::memory_order_relaxed)) {
    message_ = std::move(message);
    failed_.store(true, std::memory_order_relaxed);
  }
}

std::string RunFailure::message() const {
  std::lock_guard lock(mutex_);
  return message_;
}

// ---------------------------------------------------------------------------------------
// Stop condition

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::uint64_t total_ops(const RunConfig &config, std::uint64_t default_ops) {
  return config.ops != 0 ? config.ops : default_ops;
}

std::uint64_t split_ops(std::uint64_t total, unsigned parts, unsigned index) {
  if (parts == 0) return 0;
  return total / parts + (index < total % parts ? 1 : 0);
}

StopCondition::StopCondition(std::uint64_t ops_budget, double duration_s, const RunFailure *failure)
    : budget_(ops_budget), duration_s_(duration_s), failure_(failure) {}

void StopCondition::start(const std::atomic<bool> *expired) {
  expired_flag_ = expired;
  if (timed()) {
    last_check_ns_ = now_ns();
    deadline_ns_ = last_check_ns_ + static_cast<std::int64_t>(duration_s_ * 1e9);
    next_check_ = 0;
    interval_ = 1;
    expired_ = false;
  }
}

std::uint64_t StopCondition::remaining(std::uint64_t ops_done) {
  if (failure_ != nullptr && failure_->failed()) return 0;
  if (!timed()) return budget_ > ops_done ? budget_ - ops_done : 0;
  if (expired_flag_ != nullptr) {
    return expired_flag_->load(std::memory_order_relaxed) ? 0 : kUnbounded;
  }
  if (!expired_ && ops_done >= next_check_) {
    const std::int64_t now = now_ns();
    expired_ = now >= deadline_ns_;
    // Aim at a read every 0.1 to 1 ms: double the interval while reads come faster than
    // that (up to kClockInterval operations), halve it while they come slower.
    const std::int64_t since_last = now - last_check_ns_;
    if (since_last < 100'000 && interval_ < kClockInterval) {
      interval_ *= 2;
    } else if (since_last > 1'000'000 && interval_ > 1) {
      interval_ /= 2;
    }
    last_check_ns_ = now;
    next_check_ = ops_done + interval_;
  }
  return expired_ ? 0 : kUnbounded;
}

// ---------------------------------------------------------------------------------------
// Thread team

std::uint64_t thread_seed(std::uint64_t seed, unsigned index) {
  return mix64(seed ^ mix64(std::uint64_t{index} + 1));
}

ThreadContext::ThreadContext(const RunConfig &run_config, unsigned thread_index,
                             unsigned thread_count, std::uint64_t ops_budget,
                             RunFailure &run_failure)
    : config(run_config),
      mem(*run_config.mem),
      index(thread_index),
      threads(thread_count),
      rng(thread_seed(run_config.seed, thread_index)),
      stop(ops_budget, run_config.duration_s, &run_failure),
      failure(run_failure),
      touch(touch_level(run_config.params)) {}

bool allocate_object(ThreadContext &ctx, std::size_t size, LiveObject &object) {
  void *ptr = ctx.mem.malloc(size);
  if (ptr == nullptr) {
    ctx.fail(fmt::format("malloc({}) returned NULL", size));
    return false;
  }
  object.ptr = ptr;
  object.size = size;
  object.key = pattern_key(ptr, ctx.next_id());
  ctx.counters.on_alloc(size);
  touch_fill(ctx.touch, ptr, size, object.key);
  return true;
}

bool allocate_zeroed_object(ThreadContext &ctx, std::size_t size, LiveObject &object) {
  void *ptr = ctx.mem.calloc(1, size);
  if (ptr == nullptr) {
    ctx.fail(fmt::format("calloc(1, {}) returned NULL", size));
    return false;
  }
  ctx.counters.on_alloc(size);
  if (const auto mismatch = zero_check(ptr, size)) {
    ctx.fail(describe_mismatch("memory from calloc", ptr, size, *mismatch));
    return false;
  }
  object.ptr = ptr;
  object.size = size;
  object.key = pattern_key(ptr, ctx.next_id());
  touch_fill(ctx.touch, ptr, size, object.key);
  return true;
}

bool free_object(ThreadContext &ctx, const LiveObject &object) {
  if (const auto mismatch = touch_check(ctx.touch, object.ptr, object.size, object.key)) {
    ctx.fail(describe_mismatch("object", object.ptr, object.size, *mismatch));
    return false;
  }
  ctx.mem.free(object.ptr);
  ctx.counters.on_free(object.size);
  return true;
}

BudgetFn even_split(const RunConfig &config, std::uint64_t default_ops) {
  const std::uint64_t total = total_ops(config, default_ops);
  const unsigned threads = config.threads;
  return [total, threads](unsigned index) { return split_ops(total, threads, index); };
}

namespace {

// Holds every thread until all have started, then releases them together.
class StartGate {
 public:
  void arrive_and_wait() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    ready_.notify_all();
    open_.wait(lock, [&] { return released_; });
  }
  void wait_for(unsigned count) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return arrived_ >= count; });
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    open_.notify_all();
  }
  void finished() {
    {
      std::lock_guard lock(mutex_);
      ++finished_;
    }
    ready_.notify_all();
  }
  // Waits until `count` threads have finished or the deadline has passed.
  void wait_finished_until(unsigned count, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    ready_.wait_until(lock, deadline, [&] { return finished_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, open_;
  unsigned arrived_ = 0;
  unsigned finished_ = 0;
  bool released_ = false;
};

struct ThreadOutcome {
  ThreadCounters counters;
  std::map<std::string, double> extra;
};

}  // namespace

WorkloadResult guard_run(const std::function<WorkloadResult()> &run) {
  try {
    return run();
  } catch (const std::exception &e) {
    WorkloadResult result;
    result.ok = false;
    result.error = e.what();
    return result;
  }
}

WorkloadResult run_threads(const RunConfig &config, unsigned threads, const BudgetFn &budget,
                           const std::function<void(ThreadContext &)> &body) {
  WorkloadResult result;
  if (threads == 0) {
    result.ok = false;
    result.error = "a run needs at least one thread";
    return result;
  }
  if (config.mem == nullptr) {
    result.ok = false;
    result.error = "the run has no memory interface";
    return result;
  }
  RunFailure failure;
  StartGate gate;
  // Set by this thread once a timed run's duration has passed: every thread sees the
  // deadline within one operation, however long its operations are.
  alignas(64) std::atomic<bool> expired{false};
  // Decided before the release, the same for every thread: a workload whose threads meet
  // at barriers must have all of them run its body, or none.
  bool run_bodies = false;
  std::vector<ThreadOutcome> outcomes(threads);
  std::vector<std::thread> team;
  team.reserve(threads);

  auto thread_main = [&](unsigned index) {
    std::optional<ThreadContext> ctx;
    try {
      ctx.emplace(config, index, threads, budget(index), failure);
    } catch (const std::exception &e) {
      failure.fail(fmt::format("thread {} could not start: {}", index, e.what()));
    }
    gate.arrive_and_wait();
    if (!ctx || !run_bodies) {
      gate.finished();
      return;
    }
    ctx->stop.start(&expired);
    try {
      body(*ctx);
    } catch (const std::exception &e) {
      failure.fail(fmt::format("thread {}: {}", index, e.what()));
    } catch (...) {
      failure.fail(fmt::format("thread {}: unknown exception", index));
    }
    outcomes[index].counters = ctx->counters;
    outcomes[index].extra = std::move(ctx->extra);
    gate.finished();
  };

  for (unsigned i = 0; i < threads; ++i) {
    try {
      team.emplace_back(thread_main, i);
    } catch (const std::exception &e) {
      failure.fail(fmt::format("could not start thread {} of {}: {}", i + 1, threads, e.what()));
      break;
    }
  }
  gate.wait_for(static_cast<unsigned>(team.size()));
  run_bodies = team.size() == threads && !failure.failed();
  if (config.measure_begin) config.measure_begin();
  const auto start = std::chrono::steady_clock::now();
  gate.release();
  if (run_bodies && config.duration_s > 0) {
    gate.wait_finished_until(
        threads, start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(config.duration_s)));
    expired.store(true, std::memory_order_relaxed);
  }
  for (auto &thread : team) thread.join();
  const auto end = std::chrono::steady_clock::now();
  if (config.measure_end) config.measure_end();

  result.wall_s = std::chrono::duration<double>(end - start).count();
  for (const auto &outcome : outcomes) {
    result.allocs += outcome.counters.allocs;
    result.frees += outcome.counters.frees;
    result.peak_live_bytes += outcome.counters.peak_live_bytes;
    for (const auto &[key, value] : outcome.extra) result.extra[key] += value;
  }
  if (failure.failed()) {
    result.ok = false;
    result.error = failure.message();
  }
  return result;
}

}  // namespace allocbench
