// Microbenchmarks of the fio allocator against the process's malloc.
//
// Every benchmark runs twice: "fio" calls fio_* directly; "malloc" calls the process's
// malloc, which is glibc when run plainly and a peer when its library is preloaded
// (LD_PRELOAD=libmimalloc.so.2 ...). The context block names the library that served
// malloc. compare.sh runs one process per allocator and prints the medians.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fio/fio_malloc.h"

namespace {

struct FioApi {
  static void *alloc(size_t n) { return fio_malloc(n); }
  static void *zalloc(size_t n) { return fio_calloc(1, n); }
  static void release(void *p) { fio_free(p); }
};

struct MallocApi {
  static void *alloc(size_t n) { return std::malloc(n); }
  static void *zalloc(size_t n) { return std::calloc(1, n); }
  static void release(void *p) { std::free(p); }
};

// One malloc and one free of the same size: the allocator's fastest path.
template <class Api>
void BM_pair(benchmark::State &state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void *p = Api::alloc(size);
    benchmark::DoNotOptimize(p);
    static_cast<char *>(p)[0] = 1;
    Api::release(p);
  }
  state.SetItemsProcessed(state.iterations());
}

constexpr size_t kGroup = 4096;

// Sizes uniform in 16..512 B, the same sequence for every allocator.
const std::vector<uint32_t> &group_sizes() {
  static const std::vector<uint32_t> sizes = [] {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<uint32_t> dist(16, 512);
    std::vector<uint32_t> v(kGroup);
    for (auto &s : v) s = dist(rng);
    return v;
  }();
  return sizes;
}

// How a benchmark writes each object of a group: every byte, or only its first byte (the
// case where an allocator's own work, zeroing included, is all that is measured).
enum class Write { kAll, kFirstByte };

// The fio design point: allocate a group, write every object, free the whole group.
// Zeroed: the allocator must hand out zeroed memory (calloc for malloc; fio always).
template <class Api, bool Zeroed, Write W = Write::kAll>
void BM_group(benchmark::State &state) {
  const auto &sizes = group_sizes();
  std::vector<void *> objs(kGroup);
  for (auto _ : state) {
    for (size_t i = 0; i < kGroup; ++i) {
      void *p = Zeroed ? Api::zalloc(sizes[i]) : Api::alloc(sizes[i]);
      if (W == Write::kAll)
        std::memset(p, static_cast<int>(i), sizes[i]);
      else
        *static_cast<volatile char *>(p) = static_cast<char>(i);
      objs[i] = p;
    }
    benchmark::ClobberMemory();
    for (size_t i = 0; i < kGroup; ++i) Api::release(objs[i]);
  }
  state.SetItemsProcessed(state.iterations() * kGroup);  // alloc+free pairs
}

// The two halves of a group timed apart (the other half runs with the timer paused):
// where an allocator spends its time on this pattern, malloc (with fio's zeroing) or free.
// The pause costs a little per iteration, against about 40 us of work per half.
enum class Phase { kAlloc, kFree };
template <class Api, Phase P>
void BM_group_phase(benchmark::State &state) {
  const auto &sizes = group_sizes();
  std::vector<void *> objs(kGroup);
  for (auto _ : state) {
    if (P == Phase::kFree) state.PauseTiming();
    for (size_t i = 0; i < kGroup; ++i) {
      void *p = Api::alloc(sizes[i]);
      std::memset(p, static_cast<int>(i), sizes[i]);
      objs[i] = p;
    }
    benchmark::ClobberMemory();
    if (P == Phase::kFree)
      state.ResumeTiming();
    else
      state.PauseTiming();
    for (size_t i = 0; i < kGroup; ++i) Api::release(objs[i]);
    if (P == Phase::kAlloc) state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kGroup);  // calls of the timed half
}

#define FIO_PAIR_SIZES ->Arg(16)->Arg(64)->Arg(256)->Arg(1024)->Arg(4096)->Arg(65536)
BENCHMARK_TEMPLATE(BM_pair, FioApi) FIO_PAIR_SIZES->Name("pair/fio");
BENCHMARK_TEMPLATE(BM_pair, MallocApi) FIO_PAIR_SIZES->Name("pair/malloc");
// One and two threads, and one per CPU where there are more, each thread with its own
// group. The items of all threads are divided by their CPU time, also summed: the rate is
// per thread (pairs per CPU-second), which a shared machine's other work does not lower.
void group_threads(benchmark::internal::Benchmark *b) {
  b->Threads(1)->Threads(2);
  const unsigned cpus = std::thread::hardware_concurrency();
  if (cpus > 2) b->Threads(static_cast<int>(cpus));
}
#define FIO_GROUP_THREADS ->Apply(group_threads)
BENCHMARK_TEMPLATE(BM_group, FioApi, false) FIO_GROUP_THREADS->Name("group/fio");
BENCHMARK_TEMPLATE(BM_group, MallocApi, false) FIO_GROUP_THREADS->Name("group/malloc");
BENCHMARK_TEMPLATE(BM_group, FioApi, false, Write::kFirstByte)
FIO_GROUP_THREADS->Name("group_touch/fio");
BENCHMARK_TEMPLATE(BM_group, MallocApi, false, Write::kFirstByte)
FIO_GROUP_THREADS->Name("group_touch/malloc");
BENCHMARK_TEMPLATE(BM_group_phase, FioApi, Phase::kAlloc)->Name("group_phase_alloc/fio");
BENCHMARK_TEMPLATE(BM_group_phase, MallocApi, Phase::kAlloc)->Name("group_phase_alloc/malloc");
BENCHMARK_TEMPLATE(BM_group_phase, FioApi, Phase::kFree)->Name("group_phase_free/fio");
BENCHMARK_TEMPLATE(BM_group_phase, MallocApi, Phase::kFree)->Name("group_phase_free/malloc");
BENCHMARK_TEMPLATE(BM_group, FioApi, true) FIO_GROUP_THREADS->Name("group_zeroed/fio");
BENCHMARK_TEMPLATE(BM_group, MallocApi, true) FIO_GROUP_THREADS->Name("group_zeroed/malloc");

// Which shared object's malloc this process calls (glibc or a preloaded peer).
std::string malloc_library() {
  Dl_info info;
  void *sym = dlsym(RTLD_DEFAULT, "malloc");
  if (sym && dladdr(sym, &info) && info.dli_fname) return info.dli_fname;
  return "unknown";
}

}  // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("malloc_library", malloc_library());
  benchmark::AddCustomContext("fio_version", fio_malloc_version());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
