// Latency mode and RSS over time: the samples exist and are plausible.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "allocbench/workload.h"
#include "child_runner.h"
#include "latency.h"
#include "rss_sampler.h"

#ifndef ALLOCBENCH_CHILD_EXE
#error "ALLOCBENCH_CHILD_EXE must name the allocbench executable"
#endif

namespace allocbench {
namespace {

WorkloadResult run_in_process(const std::string &name, std::uint64_t ops, const MemoryApi &mem) {
  const Workload *w = WorkloadRegistry::instance().find(name);
  if (!w) throw std::invalid_argument("no workload " + name);
  RunConfig config;
  config.threads = 2;
  config.ops = ops;
  config.sizes = SizeDistribution::parse(w->default_size());
  config.params = w->bind({});
  config.mem = &mem;
  return w->run(config);
}

void expect_plausible(const LatencySummary &l) {
  EXPECT_GT(l.samples, 0u);
  EXPECT_GE(l.p50, 0.0);
  EXPECT_LE(l.p50, l.p99);
  EXPECT_LE(l.p99, l.p999);
  EXPECT_LE(l.p999, l.max);
  EXPECT_GE(l.sampling_overhead_ns, 0.0);
}

TEST(LatencyMode, SamplingEveryCallTimesEveryCall) {
  const WorkloadResult r = run_in_process("long-lived", 20000, timing_memory(1));
  ASSERT_TRUE(r.ok) << r.error;
  const LatencySummary l = latency_summary();
  EXPECT_EQ(l.samples, r.ops());
  expect_plausible(l);
}

TEST(LatencyMode, OneCallInNIsSampledPerThread) {
  const WorkloadResult r = run_in_process("phased", 20000, timing_memory(8));
  ASSERT_TRUE(r.ok) << r.error;
  const LatencySummary l = latency_summary();
  // The first call of every thread, then one in 8: about ops / 8, never more than
  // one per thread above it (each phase starts two threads).
  EXPECT_GE(l.samples, r.ops() / 8);
  EXPECT_LE(l.samples, r.ops() / 8 + 2 * 10 + 1);
  expect_plausible(l);
  EXPECT_EQ(latency_from_json(latency_to_json(l)).p999, l.p999);
}

TEST(RssInterval, ParsesMillisecondsAndRejectsTheRest) {
  EXPECT_EQ(parse_rss_interval("0"), 0u);
  EXPECT_EQ(parse_rss_interval("10"), 10u);
  EXPECT_EQ(parse_rss_interval("60000"), 60000u);
  for (const char *bad : {"", "-1", "10ms", "abc", "60001", "1.5"}) {
    EXPECT_THROW(parse_rss_interval(bad), std::invalid_argument) << bad;
  }
}

ChildRequest large_run(unsigned latency_every) {
  ChildRequest request;
  request.allocator = {"glibc", "", "glibc"};
  WorkloadRequest w;
  w.workload = "large";
  w.params = {{"buffers", "16"}, {"touch", "pages"}};
  w.size = "16384..1048576";
  w.threads = 1;
  w.ops = 3000;
  w.latency_every = latency_every;
  request.workload = w;
  return request;
}

TEST(RssTimeline, TheParentSamplesTheChildAtItsInterval) {
  const ChildOutcome out = run_child(ALLOCBENCH_CHILD_EXE, large_run(0), 120, 2);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  ASSERT_TRUE(out.rss_timeline.has_value());
  const RssTimeline &t = *out.rss_timeline;
  EXPECT_EQ(t.interval_ms, 2u);
  ASSERT_EQ(t.t_ms.size(), t.rss_kib.size());
  ASSERT_GE(t.t_ms.size(), 3u);
  for (std::size_t i = 0; i < t.t_ms.size(); ++i) {
    EXPECT_GE(t.t_ms[i], 0.0);
    EXPECT_GT(t.rss_kib[i], 0u);
    if (i > 0) {
      EXPECT_GT(t.t_ms[i], t.t_ms[i - 1]) << "sample " << i;
    }
  }
  // The buffers (up to 16 MiB live) show in the largest sample.
  std::uint64_t largest = 0;
  for (std::uint64_t kib : t.rss_kib) largest = std::max(largest, kib);
  EXPECT_GT(largest, t.rss_kib.front());
  // Throughput runs carry no latency sampling.
  EXPECT_FALSE(out.result.contains("latency_ns"));
}

TEST(RssTimeline, OffWhenTheIntervalIsZero) {
  const ChildOutcome out = run_child(ALLOCBENCH_CHILD_EXE, large_run(0), 120, 0);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  EXPECT_FALSE(out.rss_timeline.has_value());
}

TEST(LatencyMode, TheChildReportsPercentiles) {
  const ChildOutcome out = run_child(ALLOCBENCH_CHILD_EXE, large_run(4), 120, 10);
  ASSERT_EQ(out.status, ChildOutcome::Status::kOk) << out.error;
  ASSERT_TRUE(out.result.contains("latency_ns"));
  const LatencySummary l = latency_from_json(out.result["latency_ns"]);
  expect_plausible(l);
  EXPECT_GE(l.samples, 3000u / 4);
}

}  // namespace
}  // namespace allocbench
