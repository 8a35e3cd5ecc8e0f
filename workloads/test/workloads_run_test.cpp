// Every registered workload, run at a tiny scale: it completes with sane counts, it is
// deterministic for a seed, and its content check fails when the allocator corrupts.
// Workloads added later are covered without editing this file.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "allocbench/workload.h"
#include "allocbench/workload_support.h"
#include "corrupting_memory.h"

namespace allocbench {
namespace {

constexpr std::uint64_t kTinyOps = 20000;

const Workload &workload(const std::string &name) {
  const Workload *w = WorkloadRegistry::instance().find(name);
  if (w == nullptr) throw std::invalid_argument("no workload " + name);
  return *w;
}

// About 8 MiB of requested bytes, at most kTinyOps operations: fast for workloads of
// small objects and of large ones alike.
std::uint64_t tiny_ops(const SizeDistribution &sizes) {
  const auto ops = static_cast<std::uint64_t>(2 * (8 << 20) / sizes.mean());
  return std::clamp<std::uint64_t>(ops, 20, kTinyOps);
}

RunConfig tiny(const Workload &w, unsigned threads,
               const std::map<std::string, std::string> &params = {},
               const std::string &sizes = "") {
  RunConfig config;
  config.threads = threads;
  config.sizes = SizeDistribution::parse(sizes.empty() ? w.default_size() : sizes);
  config.ops = tiny_ops(config.sizes);
  config.seed = 42;
  config.params = w.bind(params);
  return config;
}

double extra(const WorkloadResult &result, const std::string &key) {
  const auto it = result.extra.find(key);
  return it == result.extra.end() ? 0.0 : it->second;
}

std::vector<std::string> registered_names() {
  std::vector<std::string> names;
  for (const Workload *w : WorkloadRegistry::instance().all()) names.push_back(w->name());
  return names;
}

std::string test_name(const ::testing::TestParamInfo<std::string> &info) {
  std::string name = info.param;
  for (char &c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

class EveryWorkload : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryWorkload, RunsAtOneAndTwoThreadsWithSaneCounts) {
  const Workload &w = workload(GetParam());
  for (unsigned threads : {1u, 2u}) {
    SCOPED_TRACE(threads);
    const RunConfig config = tiny(w, threads);
    const WorkloadResult result = w.run(config);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_TRUE(result.error.empty());
    EXPECT_GT(result.allocs, 0u);
    EXPECT_GT(result.frees, 0u);
    // Everything allocated is freed by the end; a realloc is an allocating call without
    // a free of its own.
    EXPECT_EQ(result.allocs, result.frees + static_cast<std::uint64_t>(extra(result, "reallocs")));
    EXPECT_LE(result.ops(), config.ops);
    EXPECT_GE(result.ops(), config.ops * 9 / 10);
    EXPECT_GT(result.peak_live_bytes, 0u);
    EXPECT_GT(result.wall_s, 0.0);
  }
}

TEST_P(EveryWorkload, SameSeedSameCounts) {
  const Workload &w = workload(GetParam());
  for (unsigned threads : {1u, 2u}) {
    SCOPED_TRACE(threads);
    RunConfig config = tiny(w, threads);
    config.seed = 7;
    const WorkloadResult a = w.run(config);
    const WorkloadResult b = w.run(config);
    ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
    EXPECT_EQ(a.allocs, b.allocs);
    EXPECT_EQ(a.frees, b.frees);
  }
}

TEST_P(EveryWorkload, TimedRunStopsAfterItsDuration) {
  const Workload &w = workload(GetParam());
  RunConfig config = tiny(w, 2);
  config.ops = 0;
  config.duration_s = 0.05;
  const WorkloadResult result = w.run(config);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_GT(result.allocs, 0u);
  EXPECT_EQ(result.allocs, result.frees + static_cast<std::uint64_t>(extra(result, "reallocs")));
  EXPECT_GE(result.wall_s, config.duration_s * 0.99);
}

// Runs `config` on memory that aliases every `every`-th large object and expects the
// content check to fail.
void expect_overlap_caught(const Workload &w, RunConfig config, unsigned every) {
  const unsigned before = testing::aliased_objects();
  config.mem = &testing::aliasing_memory(every);
  const WorkloadResult result = w.run(config);
  ASSERT_GT(testing::aliased_objects(), before) << "the corruption never happened";
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("content check failed"), std::string::npos) << result.error;
}

TEST_P(EveryWorkload, ContentCheckCatchesOverlappingMemory) {
  const Workload &w = workload(GetParam());
  for (unsigned threads : {1u, 2u}) {
    SCOPED_TRACE(threads);
    RunConfig config = tiny(w, threads, {}, "5000..9000");
    // Workloads that ignore the sizes (trace-replay) keep the scale of their own.
    config.ops = std::max(config.ops, tiny(w, threads).ops);
    expect_overlap_caught(w, config, 10);
  }
}

TEST_P(EveryWorkload, RunsAtEveryTouchLevel) {
  const Workload &w = workload(GetParam());
  for (const char *touch : {"full", "lines", "pages", "ends"}) {
    SCOPED_TRACE(touch);
    const WorkloadResult result = w.run(tiny(w, 2, {{"touch", touch}}));
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_GT(result.allocs, 0u);
  }
}

// Below full, the objects written whole (1 in 16) keep overlapping memory caught; the
// aliased objects are made frequent so that some of them are among those.
TEST_P(EveryWorkload, ContentCheckCatchesOverlappingMemoryAtEveryTouchLevel) {
  const Workload &w = workload(GetParam());
  for (const char *touch : {"lines", "pages", "ends"}) {
    SCOPED_TRACE(touch);
    RunConfig config = tiny(w, 1, {{"touch", touch}}, "5000..9000");
    // Enough objects that many of the aliased ones are among those written whole.
    config.ops = 4 * std::max(config.ops, tiny(w, 1).ops);
    expect_overlap_caught(w, config, 2);
  }
}

TEST_P(EveryWorkload, UnboundParametersFailCleanly) {
  const Workload &w = workload(GetParam());
  if (w.workload_params().empty()) GTEST_SKIP() << "no parameters of its own";
  RunConfig config = tiny(w, 1);
  config.params = ParamValues();
  const WorkloadResult result = w.run(config);  // must not throw
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.error.empty());
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryWorkload, ::testing::ValuesIn(registered_names()),
                         test_name);

TEST(Determinism, OneThreadRunsRepeatTheirPeak) {
  // With one thread nothing depends on scheduling (producer-consumer has two threads).
  for (const char *name :
       {"group-free", "alloc-free", "random-lifetime", "larson", "realloc-grow"}) {
    SCOPED_TRACE(name);
    const Workload &w = workload(name);
    const WorkloadResult a = w.run(tiny(w, 1));
    const WorkloadResult b = w.run(tiny(w, 1));
    ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
    EXPECT_EQ(a.peak_live_bytes, b.peak_live_bytes);
  }
}

TEST(GroupFree, EveryFreeOrderAndZeroedMemory) {
  const Workload &w = workload("group-free");
  for (const char *order : {"forward", "reverse", "random"}) {
    for (const char *zeroed : {"false", "true"}) {
      SCOPED_TRACE(std::string(order) + " zeroed=" + zeroed);
      const RunConfig config =
          tiny(w, 2, {{"free_order", order}, {"zeroed", zeroed}, {"group", "100"}});
      const WorkloadResult result = w.run(config);
      ASSERT_TRUE(result.ok) << result.error;
      EXPECT_EQ(result.allocs, kTinyOps / 2);
      EXPECT_EQ(result.frees, kTinyOps / 2);
      EXPECT_EQ(extra(result, "groups"), 100.0);  // 2 threads x 5000 objects / 100
      EXPECT_LE(result.peak_live_bytes, 2u * 100 * 512);
    }
  }
}

TEST(GroupFree, ZeroedCatchesCallocThatDoesNotZero) {
  const Workload &w = workload("group-free");
  RunConfig config = tiny(w, 1, {{"zeroed", "true"}});
  config.mem = &testing::dirty_calloc_memory(100);
  const WorkloadResult result = w.run(config);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("memory from calloc"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("is 0x5a, expected 0x00"), std::string::npos) << result.error;
  // Without zeroed, calloc is not used: the same interface passes.
  config.params = w.bind({});
  EXPECT_TRUE(w.run(config).ok);
}

TEST(GroupFree, PeakIsOneGroupPerThread) {
  const Workload &w = workload("group-free");
  RunConfig config = tiny(w, 1, {{"group", "50"}});
  config.sizes = SizeDistribution::fixed(100);
  const WorkloadResult result = w.run(config);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.peak_live_bytes, 50u * 100);
}

TEST(RandomLifetime, WindowShrinksToFitASmallScale) {
  const Workload &w = workload("random-lifetime");
  RunConfig config = tiny(w, 1, {{"window", "100"}});
  config.sizes = SizeDistribution::fixed(64);
  WorkloadResult result = w.run(config);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.peak_live_bytes, 100u * 64);
  EXPECT_EQ(result.ops(), kTinyOps);
  config.ops = 50;  // window of 25
  result = w.run(config);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.peak_live_bytes, 25u * 64);
}

TEST(ProducerConsumer, AlwaysHasAProducerAndAConsumer) {
  const Workload &w = workload("producer-consumer");
  for (const auto &[threads, producers, consumers] :
       std::vector<std::tuple<unsigned, double, double>>{
           {1, 1, 1}, {2, 1, 1}, {3, 1, 2}, {4, 2, 2}}) {
    SCOPED_TRACE(threads);
    const WorkloadResult result = w.run(tiny(w, threads, {{"batch", "16"}, {"queue", "2"}}));
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(extra(result, "producers"), producers);
    EXPECT_EQ(extra(result, "consumers"), consumers);
    EXPECT_EQ(result.allocs, kTinyOps / 2);
    EXPECT_EQ(result.frees, kTinyOps / 2);
    EXPECT_GT(result.peak_live_bytes, 0u);
  }
}

TEST(Larson, WorkersExitAndSuccessorsInherit) {
  const Workload &w = workload("larson");
  const WorkloadResult result = w.run(tiny(w, 2, {{"slots", "100"}, {"rounds", "2"}}));
  ASSERT_TRUE(result.ok) << result.error;
  // Each thread: 100 allocations, then 200 replacements per worker, 100 frees at the end:
  // (10000 - 200) / 400 operations per worker -> 25 workers (24 full ones and a partial).
  EXPECT_EQ(extra(result, "worker_threads"), 2 * 25.0);
  EXPECT_EQ(result.allocs, result.frees);
}

TEST(ReallocGrow, EveryPatternGrowsAndKeepsContent) {
  const Workload &w = workload("realloc-grow");
  for (const char *pattern : {"builder", "doubling", "mixed"}) {
    SCOPED_TRACE(pattern);
    const WorkloadResult result = w.run(tiny(w, 2, {{"pattern", pattern}}));
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_GT(extra(result, "reallocs"), 0.0);
    EXPECT_LE(extra(result, "moves"), extra(result, "reallocs"));
    EXPECT_EQ(result.allocs, result.frees + static_cast<std::uint64_t>(extra(result, "reallocs")));
  }
}

TEST(ReallocGrow, DoublingPeakIsTheLargestCapacity) {
  const Workload &w = workload("realloc-grow");
  RunConfig config = tiny(w, 1, {{"pattern", "doubling"}});
  config.sizes = SizeDistribution::fixed(1000);  // 16, 32, ..., 1024
  const WorkloadResult result = w.run(config);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.peak_live_bytes, 1024u);
  // Per buffer: malloc, 6 reallocs, free.
  EXPECT_EQ(extra(result, "reallocs"), 6.0 * static_cast<double>(config.ops / 8));
}

}  // namespace
}  // namespace allocbench
