// allocbench-micro: Google Benchmark microbenchmarks of single allocator calls.
//
// The binary links no allocator: `allocbench micro` runs it once per allocator with only
// that allocator preloaded, exactly as workload children are run, and the binary proves
// which allocator served it (proof.h) before measuring anything. The proof lands in the
// JSON's context (allocbench_malloc_from, allocbench_allocator_version).
//
// Every benchmark counts operations the way workloads do (allocating calls + frees) in the
// counters ops, allocs and frees, and reports items_per_second = operations per second of
// wall time (UseRealTime), so its rows are comparable with `allocbench compare`.
//
// Own flags (removed before Google Benchmark sees the command line):
//   --allocbench_library=PATH   the preloaded library that must serve malloc ("" = glibc)
//   --allocbench_kind=NAME      built-in allocator whose version call must answer
//   --allocbench_iterations=N   every benchmark runs exactly N iterations (counted mode:
//                               the difference of two counts is N iterations' worth)
// Without them the binary reports what serves it and runs (standalone use).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define ALLOCBENCH_HAVE_CALLGRIND 1
#else
#define ALLOCBENCH_HAVE_CALLGRIND 0
#endif

#include "parent_death.h"
#include "proof.h"

namespace {

void count_ops(benchmark::State &state, std::int64_t allocs_per_iteration,
               std::int64_t frees_per_iteration) {
  const auto iterations = static_cast<double>(state.iterations());
  const double allocs = iterations * static_cast<double>(allocs_per_iteration);
  const double frees = iterations * static_cast<double>(frees_per_iteration);
  state.counters["allocs"] = allocs;
  state.counters["frees"] = frees;
  state.counters["ops"] = allocs + frees;
  state.SetItemsProcessed(state.iterations() * (allocs_per_iteration + frees_per_iteration));
}

// One malloc and its free: the fast path of one size class.
void BM_malloc_free(benchmark::State &state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void *p = std::malloc(size);
    benchmark::DoNotOptimize(p);
    static_cast<volatile char *>(p)[0] = 1;
    std::free(p);
  }
  count_ops(state, 1, 1);
}

// A group of 256 objects allocated, then freed in allocation order: the pattern the fio
// design is made for, in miniature.
void BM_malloc_batch_free(benchmark::State &state) {
  constexpr std::size_t kBatch = 256;
  const auto size = static_cast<std::size_t>(state.range(0));
  void *batch[kBatch];
  for (auto _ : state) {
    for (void *&p : batch) {
      p = std::malloc(size);
      benchmark::DoNotOptimize(p);
      static_cast<volatile char *>(p)[0] = 1;
    }
    for (void *p : batch) std::free(p);
    benchmark::ClobberMemory();
  }
  count_ops(state, kBatch, kBatch);
}

// calloc must hand out zeroed memory: its cost depends on how the allocator knows a block
// is already zero.
void BM_calloc_free(benchmark::State &state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void *p = std::calloc(1, size);
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(static_cast<volatile char *>(p)[size - 1]);
    std::free(p);
  }
  count_ops(state, 1, 1);
}

// A buffer grown by doubling from 16 bytes to range(0) with realloc (the vector and string
// builder pattern), then freed.
void BM_realloc_grow(benchmark::State &state) {
  const auto final_size = static_cast<std::size_t>(state.range(0));
  std::int64_t reallocs = 0;
  for (std::size_t size = 16; size < final_size; size *= 2) ++reallocs;
  for (auto _ : state) {
    std::size_t size = 16;
    char *p = static_cast<char *>(std::malloc(size));
    p[0] = 1;
    while (size < final_size) {
      size *= 2;
      p = static_cast<char *>(std::realloc(p, size));
      p[size - 1] = 1;
    }
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
  count_ops(state, 1 + reallocs, 1);
}

// aligned_alloc of a 64-byte object (or one alignment unit, when larger) at range(0)
// alignment.
void BM_aligned_alloc_free(benchmark::State &state) {
  const auto alignment = static_cast<std::size_t>(state.range(0));
  const std::size_t size = alignment > 64 ? alignment : 64;
  for (auto _ : state) {
    void *p = std::aligned_alloc(alignment, size);
    benchmark::DoNotOptimize(p);
    static_cast<volatile char *>(p)[0] = 1;
    std::free(p);
  }
  count_ops(state, 1, 1);
}

// The fio design point, the group-free workload's pattern at full size: a group of 4096
// objects of sizes uniform in 16..512 B (the same sequence for every allocator) allocated,
// written, then freed whole. One thread, two, and one per CPU where there are more, each
// thread with its own group.
constexpr std::size_t kGroup = 4096;

const std::vector<std::uint32_t> &group_sizes() {
  static const std::vector<std::uint32_t> sizes = [] {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::uint32_t> dist(16, 512);
    std::vector<std::uint32_t> v(kGroup);
    for (auto &size : v) size = dist(rng);
    return v;
  }();
  return sizes;
}

void group_threads(benchmark::internal::Benchmark *b) {
  b->Threads(1)->Threads(2);
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus > 2) b->Threads(static_cast<int>(cpus));
  b->UseRealTime();
}

// How a group's objects are asked for and written: every byte written (as the workloads
// do); only the first byte, so that the allocator's own work is nearly all that is timed;
// every byte asked zeroed (calloc) and only the first written.
enum class GroupFill { kWrite, kTouch, kZeroed };

template <GroupFill Fill>
void group_free(benchmark::State &state) {
  const auto &sizes = group_sizes();
  std::vector<void *> objects(kGroup);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kGroup; ++i) {
      void *p = Fill == GroupFill::kZeroed ? std::calloc(1, sizes[i]) : std::malloc(sizes[i]);
      if (Fill == GroupFill::kWrite)
        std::memset(p, static_cast<int>(i), sizes[i]);
      else
        *static_cast<volatile char *>(p) = static_cast<char>(i);
      objects[i] = p;
    }
    benchmark::ClobberMemory();
    for (void *p : objects) std::free(p);
  }
  count_ops(state, static_cast<std::int64_t>(kGroup), static_cast<std::int64_t>(kGroup));
}
void BM_group_free(benchmark::State &state) {
  group_free<GroupFill::kWrite>(state);
}
void BM_group_free_touch(benchmark::State &state) {
  group_free<GroupFill::kTouch>(state);
}
void BM_group_free_zeroed(benchmark::State &state) {
  group_free<GroupFill::kZeroed>(state);
}

// The two halves of a group timed apart, the other half running with the timer paused:
// where an allocator spends its time on this pattern. The pause costs a little per
// iteration, against tens of microseconds of work per half. Operations are the timed
// half's calls.
enum class GroupHalf { kAlloc, kFree };

template <GroupHalf Half>
void group_half(benchmark::State &state) {
  const auto &sizes = group_sizes();
  std::vector<void *> objects(kGroup);
  for (auto _ : state) {
    if (Half == GroupHalf::kFree) state.PauseTiming();
    for (std::size_t i = 0; i < kGroup; ++i) {
      objects[i] = std::malloc(sizes[i]);
      std::memset(objects[i], static_cast<int>(i), sizes[i]);
    }
    benchmark::ClobberMemory();
    if (Half == GroupHalf::kFree)
      state.ResumeTiming();
    else
      state.PauseTiming();
    for (void *p : objects) std::free(p);
    if (Half == GroupHalf::kAlloc) state.ResumeTiming();
  }
  const auto group = static_cast<std::int64_t>(kGroup);
  count_ops(state, Half == GroupHalf::kAlloc ? group : 0, Half == GroupHalf::kFree ? group : 0);
}
void BM_group_alloc_half(benchmark::State &state) {
  group_half<GroupHalf::kAlloc>(state);
}
void BM_group_free_half(benchmark::State &state) {
  group_half<GroupHalf::kFree>(state);
}

// Every benchmark, registered here rather than by BENCHMARK() so that counted mode can fix
// each one's iteration count (`iterations`, 0: Google Benchmark's own choice).
void register_benchmarks(benchmark::IterationCount iterations) {
  auto add = [&](const char *name, void (*fn)(benchmark::State &)) {
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, fn);
    if (iterations > 0) b->Iterations(iterations);
    return b;
  };
  add("BM_malloc_free", BM_malloc_free)->RangeMultiplier(4)->Range(16, 256 << 10)->UseRealTime();
  add("BM_malloc_batch_free", BM_malloc_batch_free)
      ->RangeMultiplier(4)
      ->Range(16, 1024)
      ->UseRealTime();
  add("BM_calloc_free", BM_calloc_free)->RangeMultiplier(16)->Range(16, 64 << 10)->UseRealTime();
  add("BM_realloc_grow", BM_realloc_grow)
      ->RangeMultiplier(16)
      ->Range(4 << 10, 1 << 20)
      ->UseRealTime();
  add("BM_aligned_alloc_free", BM_aligned_alloc_free)->Arg(16)->Arg(64)->Arg(4096)->UseRealTime();
  add("BM_group_free", BM_group_free)->Apply(group_threads);
  add("BM_group_free_touch", BM_group_free_touch)->Apply(group_threads);
  add("BM_group_free_zeroed", BM_group_free_zeroed)->Apply(group_threads);
  add("BM_group_alloc_half", BM_group_alloc_half)->UseRealTime();
  add("BM_group_free_half", BM_group_free_half)->UseRealTime();
}

// Counted mode's reporter: instrumentation stops before the first report, so that what
// callgrind counts is the start-up and the benchmark's run, not the formatting of its
// times (whose digits, and so whose instruction count, change from run to run).
class CountedReporter final : public benchmark::JSONReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override {
#if ALLOCBENCH_HAVE_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
    JSONReporter::ReportRuns(runs);
  }
};

// Removes `--name=value` from argv; returns whether it was there.
bool take_flag(int &argc, char **argv, std::string_view name, std::string &value) {
  const std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) != 0) continue;
    value = argv[i] + prefix.size();
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char **argv) {
  // Started by `allocbench micro`: die with it, whatever ends it.
  if (!allocbench::die_with_parent()) return 1;
  std::string library, kind;
  const bool strict = take_flag(argc, argv, "allocbench_library", library);
  if (take_flag(argc, argv, "allocbench_kind", kind) && !strict) {
    std::fprintf(stderr, "allocbench-micro: --allocbench_kind needs --allocbench_library\n");
    return 2;
  }
  std::string iterations_text;
  benchmark::IterationCount iterations = 0;
  if (take_flag(argc, argv, "allocbench_iterations", iterations_text)) {
    char *end = nullptr;
    iterations = std::strtoll(iterations_text.c_str(), &end, 10);
    if (end == iterations_text.c_str() || *end != '\0' || iterations < 1) {
      std::fprintf(stderr,
                   "allocbench-micro: --allocbench_iterations takes a count from 1, not '%s'\n",
                   iterations_text.c_str());
      return 2;
    }
  }
  if (!strict) {
    // Standalone: prove against whatever single library is preloaded, any version call.
    const char *preload = std::getenv("LD_PRELOAD");
    if (preload && *preload && !std::strpbrk(preload, " :")) library = preload;
  }
  const allocbench::ProofOutcome proof = allocbench::prove_allocator(library, kind);
  if (!proof.ok) {
    // A measurement of the wrong allocator is worse than none.
    std::fprintf(stderr, "allocbench-micro: allocator mismatch: %s\n", proof.error.c_str());
    return 3;
  }
  benchmark::AddCustomContext("allocbench_malloc_from", proof.malloc_from);
  benchmark::AddCustomContext("allocbench_allocator_version", proof.version);

  register_benchmarks(iterations);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (iterations > 0) {
    CountedReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
