#include "latency.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <new>
#include <vector>

namespace allocbench {

namespace {

// One thread's samples, in their own mapping: the buffers never go through the allocator
// under test, so sampling adds no allocations to its heap.
struct SampleBuffer {
  SampleBuffer *next;
  std::size_t size;
  std::uint32_t data[kLatencySamplesPerThread];
};

std::atomic<SampleBuffer *> g_buffers{nullptr};
std::atomic<unsigned> g_every{1};
// Bumped by timing_memory(): a thread whose buffer belongs to an earlier use starts over.
std::atomic<unsigned> g_generation{0};

struct ThreadSampler {
  SampleBuffer *buffer = nullptr;
  unsigned generation = ~0u;
  unsigned countdown = 0;
};
thread_local ThreadSampler t_sampler;

SampleBuffer *new_buffer() {
  void *mem = ::mmap(nullptr, sizeof(SampleBuffer), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  auto *b = static_cast<SampleBuffer *>(mem);  // zero-filled
  b->next = g_buffers.load();
  while (!g_buffers.compare_exchange_weak(b->next, b)) {
  }
  return b;
}

inline std::uint64_t now_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// True for the calls to time: the first of each thread, then one in g_every.
inline bool due() {
  ThreadSampler &s = t_sampler;
  if (s.countdown == 0) {
    s.countdown = g_every.load(std::memory_order_relaxed) - 1;
    return true;
  }
  --s.countdown;
  return false;
}

inline void record(std::uint64_t ns) {
  ThreadSampler &s = t_sampler;
  const unsigned generation = g_generation.load(std::memory_order_relaxed);
  if (s.generation != generation) {
    s.buffer = new_buffer();
    s.generation = generation;
  }
  SampleBuffer *b = s.buffer;
  if (b && b->size < kLatencySamplesPerThread) {
    b->data[b->size++] = static_cast<std::uint32_t>(std::min<std::uint64_t>(ns, UINT32_MAX));
  }
}

void *timed_malloc(std::size_t size) {
  if (!due()) return MemoryApi::system().malloc(size);
  const std::uint64_t t0 = now_ns();
  void *p = MemoryApi::system().malloc(size);
  record(now_ns() - t0);
  return p;
}

void *timed_calloc(std::size_t count, std::size_t size) {
  if (!due()) return MemoryApi::system().calloc(count, size);
  const std::uint64_t t0 = now_ns();
  void *p = MemoryApi::system().calloc(count, size);
  record(now_ns() - t0);
  return p;
}

void *timed_realloc(void *ptr, std::size_t size) {
  if (!due()) return MemoryApi::system().realloc(ptr, size);
  const std::uint64_t t0 = now_ns();
  void *p = MemoryApi::system().realloc(ptr, size);
  record(now_ns() - t0);
  return p;
}

void timed_free(void *ptr) {
  if (!due()) return MemoryApi::system().free(ptr);
  const std::uint64_t t0 = now_ns();
  MemoryApi::system().free(ptr);
  record(now_ns() - t0);
}

void *timed_aligned_alloc(std::size_t alignment, std::size_t size) {
  if (!due()) return MemoryApi::system().aligned_alloc(alignment, size);
  const std::uint64_t t0 = now_ns();
  void *p = MemoryApi::system().aligned_alloc(alignment, size);
  record(now_ns() - t0);
  return p;
}

const MemoryApi kTimingMemory{timed_malloc, timed_calloc, timed_realloc, timed_free,
                              timed_aligned_alloc};

double timer_overhead_ns() {
  std::vector<std::uint64_t> pairs(2001);
  for (auto &d : pairs) {
    const std::uint64_t t0 = now_ns();
    d = now_ns() - t0;
  }
  std::nth_element(pairs.begin(), pairs.begin() + 1000, pairs.end());
  return static_cast<double>(pairs[1000]);
}

// The value at quantile q (nearest rank) of sorted samples.
double quantile(const std::vector<std::uint32_t> &sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

const MemoryApi &timing_memory(unsigned every) {
  g_every.store(std::max(every, 1u));
  g_generation.fetch_add(1);
  t_sampler = ThreadSampler{};
  // Earlier buffers stay mapped (a thread of the earlier use may still hold one) but are
  // left out of the summary.
  g_buffers.store(nullptr);
  return kTimingMemory;
}

LatencySummary latency_summary() {
  std::vector<std::uint32_t> all;
  for (SampleBuffer *b = g_buffers.load(); b; b = b->next) {
    all.insert(all.end(), b->data, b->data + b->size);
  }
  std::sort(all.begin(), all.end());
  LatencySummary s;
  s.samples = all.size();
  s.p50 = quantile(all, 0.50);
  s.p99 = quantile(all, 0.99);
  s.p999 = quantile(all, 0.999);
  s.max = all.empty() ? 0 : all.back();
  s.sampling_overhead_ns = timer_overhead_ns();
  return s;
}

Json latency_to_json(const LatencySummary &l) {
  return {{"p50", l.p50}, {"p99", l.p99},         {"p999", l.p999},
          {"max", l.max}, {"samples", l.samples}, {"sampling_overhead_ns", l.sampling_overhead_ns}};
}

LatencySummary latency_from_json(const Json &j) {
  LatencySummary l;
  l.p50 = j.at("p50").get<double>();
  l.p99 = j.at("p99").get<double>();
  l.p999 = j.at("p999").get<double>();
  l.max = j.at("max").get<double>();
  l.samples = j.at("samples").get<std::uint64_t>();
  l.sampling_overhead_ns = j.at("sampling_overhead_ns").get<double>();
  return l;
}

}  // namespace allocbench
