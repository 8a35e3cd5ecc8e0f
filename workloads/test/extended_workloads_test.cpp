// What the long-lived, false-sharing, locality, large, phased and trace-replay workloads
// report beyond the counts every workload is tested for (workloads_run_test.cpp).
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "allocbench/workload.h"

namespace allocbench {
namespace {

const Workload &workload(const std::string &name) {
  const Workload *w = WorkloadRegistry::instance().find(name);
  if (w == nullptr) throw std::invalid_argument("no workload " + name);
  return *w;
}

WorkloadResult run(const std::string &name, unsigned threads, std::uint64_t ops,
                   const std::map<std::string, std::string> &params = {},
                   const std::string &size = "") {
  const Workload &w = workload(name);
  RunConfig config;
  config.threads = threads;
  config.ops = ops;
  config.sizes = SizeDistribution::parse(size.empty() ? w.default_size() : size);
  config.params = w.bind(params);
  return w.run(config);
}

// A value the workload's declaration refuses: bind() throws, naming what is accepted,
// before any run (the harness's status 2), instead of a run that fails late.
std::string refusal(const std::string &name, const std::map<std::string, std::string> &params) {
  try {
    workload(name).bind(params);
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "(accepted)";
}

double extra(const WorkloadResult &r, const std::string &key) {
  const auto it = r.extra.find(key);
  if (it == r.extra.end()) throw std::out_of_range("no extra figure " + key);
  return it->second;
}

TEST(LongLived, PinsOneObjectInKAndReportsMemory) {
  const WorkloadResult r = run("long-lived", 2, 40000, {{"group", "100"}, {"keep_one_in", "10"}});
  ASSERT_TRUE(r.ok) << r.error;
  // Every tenth object of every group is pinned: a tenth of all allocations.
  EXPECT_EQ(extra(r, "pinned_objects"), static_cast<double>(r.allocs / 10));
  EXPECT_GT(extra(r, "pinned_kib"), 0.0);
  EXPECT_GT(extra(r, "rss_start_kib"), 0.0);
  EXPECT_GE(extra(r, "rss_peak_kib"), extra(r, "rss_end_kib"));
  EXPECT_GE(extra(r, "rss_peak_kib"), extra(r, "rss_start_kib"));
  EXPECT_EQ(extra(r, "rss_growth_kib"), extra(r, "rss_end_kib") - extra(r, "rss_start_kib"));
  EXPECT_EQ(r.allocs, r.frees);
}

TEST(LongLived, RejectsAZeroK) {
  const std::string why = refusal("long-lived", {{"keep_one_in", "0"}});
  EXPECT_NE(why.find("keep_one_in"), std::string::npos) << why;
}

TEST(FalseSharing, BothModesWriteEveryObjectAndCountSharedLines) {
  for (const char *mode : {"active", "passive"}) {
    SCOPED_TRACE(mode);
    const WorkloadResult r =
        run("false-sharing", 2, 4000, {{"mode", mode}, {"objects", "8"}, {"writes", "50"}});
    ASSERT_TRUE(r.ok) << r.error;
    const double own_objects = static_cast<double>(r.allocs) / (mode[0] == 'p' ? 2 : 1);
    EXPECT_EQ(extra(r, "writes"), own_objects * 50);
    EXPECT_GT(extra(r, "ns_per_write"), 0.0);
    EXPECT_GE(extra(r, "shared_line_fraction"), 0.0);
    EXPECT_LE(extra(r, "shared_line_fraction"), 1.0);
    EXPECT_EQ(r.allocs, r.frees);
  }
}

TEST(FalseSharing, RejectsAnUnknownMode) {
  const std::string why = refusal("false-sharing", {{"mode", "sideways"}});
  EXPECT_NE(why.find("active, passive"), std::string::npos) << why;
}

TEST(Locality, VisitsEveryNodeOfEveryWalk) {
  const WorkloadResult r =
      run("locality", 1, 2 * 4 * 100 * 3,
          {{"lists", "4"}, {"nodes", "100"}, {"interleave", "2"}, {"traversals", "3"}});
  ASSERT_TRUE(r.ok) << r.error;
  // One round of 4 lists of 100 nodes, each with 2 interleaved objects, walked 3 times.
  EXPECT_EQ(r.allocs, 4u * 100u * 3u);
  EXPECT_EQ(extra(r, "nodes_visited"), 4.0 * 100 * 3);
  EXPECT_GT(extra(r, "ns_per_node"), 0.0);
  EXPECT_GT(extra(r, "alloc_ns_per_op"), 0.0);
}

TEST(Large, EveryTouchLevelChecksItsBuffers) {
  EXPECT_EQ(workload("large").bind({}).get_string("touch"), "pages");
  for (const char *touch : {"full", "lines", "pages", "ends"}) {
    SCOPED_TRACE(touch);
    const WorkloadResult r =
        run("large", 2, 200, {{"touch", touch}, {"buffers", "4"}}, "16384..262144");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.allocs, r.frees);
    EXPECT_GE(r.peak_live_bytes, 16384u);
  }
  EXPECT_NE(refusal("large", {{"touch", "some"}}).find("full, lines, pages, ends"),
            std::string::npos);
}

TEST(Phased, StartsThreadsPerPhaseAndHandsObjectsOn) {
  for (const char *survive : {"0", "50", "100"}) {
    SCOPED_TRACE(survive);
    const WorkloadResult r =
        run("phased", 2, 20000, {{"phases", "4"}, {"objects", "200"}, {"survive", survive}});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(extra(r, "threads_started"), 8.0);
    EXPECT_EQ(r.allocs, r.frees);
  }
}

TEST(TraceReplay, ShippedTracesReplayWholeAndTheirSizeTablesExist) {
  for (const char *name : {"python", "gcc"}) {
    SCOPED_TRACE(name);
    const WorkloadResult r = run("trace-replay", 2, 0, {{"trace", name}});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(extra(r, "passes"), 1.0);
    EXPECT_EQ(extra(r, "trace_ops_replayed"), extra(r, "trace_ops"));
    EXPECT_EQ(r.allocs, r.frees + static_cast<std::uint64_t>(extra(r, "reallocs")));
    EXPECT_GT(r.peak_live_bytes, 0u);
    const SizeDistribution sizes = SizeDistribution::parse(name);
    EXPECT_EQ(sizes.text(), name);
    EXPECT_GE(sizes.min(), 1u);
  }
}

TEST(TraceReplay, AnOperationCountRepeatsTheTrace) {
  const WorkloadResult one = run("trace-replay", 1, 0, {{"trace", "gcc"}});
  ASSERT_TRUE(one.ok) << one.error;
  const std::uint64_t target = one.ops() * 2 + 1000;
  const WorkloadResult r = run("trace-replay", 1, target, {{"trace", "gcc"}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(extra(r, "passes"), 3.0);
  EXPECT_LE(r.ops(), target);
  EXPECT_GE(r.ops(), target - 2);
}

TEST(TraceReplay, AnUnknownTraceIsAClearError) {
  const std::string why = refusal("trace-replay", {{"trace", "no-such-trace"}});
  EXPECT_NE(why.find("no trace 'no-such-trace'"), std::string::npos) << why;
  EXPECT_NE(why.find("python"), std::string::npos) << why;  // what is accepted
}

}  // namespace
}  // namespace allocbench
