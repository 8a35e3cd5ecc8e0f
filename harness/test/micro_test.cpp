// allocbench-micro and `allocbench micro`: the Google Benchmark output is turned into runs
// of workload `micro`, every installed allocator runs the microbenchmarks at a tiny scale
// under its own preload, a preload that does not serve malloc is refused, and the merged
// result file is comparable with `allocbench compare`.
#include "micro_job.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "allocators.h"
#include "command_runner.h"
#include "result_reader.h"

namespace allocbench {
namespace {

const char *kGbenchOutput = R"({
  "context": {"date": "2026-11-27T02:11:36+00:00", "host_name": "vm", "num_cpus": 2,
              "allocbench_malloc_from": "/usr/lib/x86_64-linux-gnu/libc.so.6",
              "allocbench_allocator_version": "2.36"},
  "benchmarks": [
    {"name": "BM_malloc_free/64/real_time", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "BM_malloc_free/64/real_time", "run_type": "iteration", "repetitions": 2,
     "repetition_index": 0, "threads": 1, "iterations": 1000000, "real_time": 20.0,
     "cpu_time": 19.0, "time_unit": "ns", "allocs": 1000000, "frees": 1000000,
     "items_per_second": 1e8, "ops": 2000000},
    {"name": "BM_malloc_free/64/real_time", "family_index": 0, "per_family_instance_index": 0,
     "run_name": "BM_malloc_free/64/real_time", "run_type": "iteration", "repetitions": 2,
     "repetition_index": 1, "threads": 1, "iterations": 500, "real_time": 4.0,
     "cpu_time": 4.0, "time_unit": "us", "allocs": 500, "frees": 500,
     "items_per_second": 5e5, "ops": 1000},
    {"name": "BM_malloc_free/64/real_time_mean", "run_name": "BM_malloc_free/64/real_time",
     "run_type": "aggregate", "aggregate_name": "mean", "repetitions": 2, "threads": 1,
     "iterations": 2, "real_time": 12.0, "cpu_time": 11.5, "time_unit": "ns"},
    {"name": "BM_calloc_free/16/real_time", "run_type": "iteration", "repetitions": 2,
     "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0, "cpu_time": 0,
     "time_unit": "ns", "error_occurred": true, "error_message": "out of memory"}
  ]
})";

TEST(MicroResults, IterationRowsBecomeRunsOfWorkloadMicro) {
  const MicroOutput out = parse_micro_output(Json::parse(kGbenchOutput), "glibc");
  EXPECT_EQ(out.proof.malloc_from, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(out.proof.version, "2.36");
  ASSERT_EQ(out.runs.size(), 3u);  // the aggregate row is dropped

  const RunRecord &first = out.runs[0];
  EXPECT_EQ(first.id.workload, "micro");
  ASSERT_EQ(first.id.params.size(), 1u);
  EXPECT_EQ(first.id.params[0],
            (std::pair<std::string, std::string>{"bench", "BM_malloc_free/64"}));
  EXPECT_EQ(first.allocator, "glibc");
  EXPECT_TRUE(first.ok);
  EXPECT_EQ(first.repetition, 0u);
  EXPECT_EQ(*first.metrics.ops, 2000000u);
  EXPECT_DOUBLE_EQ(*first.metrics.wall_s, 1000000 * 20e-9);  // iterations x real_time
  EXPECT_DOUBLE_EQ(*first.metrics.ops_per_s, 1e8);
  ASSERT_TRUE(first.proof.has_value());
  EXPECT_EQ(first.proof->version, "2.36");

  // Another time unit is converted: 500 iterations x 4 us = 2 ms for 1000 operations.
  EXPECT_EQ(out.runs[1].repetition, 1u);
  EXPECT_DOUBLE_EQ(*out.runs[1].metrics.wall_s, 500 * 4e-6);
  EXPECT_NEAR(*out.runs[1].metrics.ops_per_s, 5e5, 1e-6);

  EXPECT_FALSE(out.runs[2].ok);
  EXPECT_EQ(out.runs[2].error, "benchmark error: out of memory");
}

TEST(MicroResults, OutputWithoutAProofIsRefused) {
  Json doc = Json::parse(kGbenchOutput);
  doc["context"].erase("allocbench_malloc_from");
  EXPECT_THROW(parse_micro_output(doc, "glibc"), std::runtime_error);
  EXPECT_THROW(parse_micro_output(Json::parse("[1, 2]"), "glibc"), std::runtime_error);
}

TEST(MicroResults, NamesAndKeys) {
  EXPECT_EQ(split_micro_name("BM_realloc_grow/4096/real_time").bench, "BM_realloc_grow/4096");
  EXPECT_EQ(split_micro_name("BM_realloc_grow/4096/real_time").threads, 1u);
  EXPECT_EQ(split_micro_name("BM_other/8").bench, "BM_other/8");
  // Google Benchmark puts the thread count last.
  const MicroName threaded = split_micro_name("BM_group_free/real_time/threads:16");
  EXPECT_EQ(threaded.bench, "BM_group_free");
  EXPECT_EQ(threaded.threads, 16u);
  EXPECT_EQ(micro_benchmark_id(threaded).key(), "micro/bench=BM_group_free/threads=16");
  EXPECT_EQ(split_micro_name("BM_odd/threads:x").bench, "BM_odd/threads:x");
  // harness/RESULTS.md, "Benchmark identity".
  EXPECT_EQ(micro_benchmark_id("BM_malloc_free/64", 1).key(),
            "micro/bench=BM_malloc_free/64/threads=1");
}

TEST(MicroBinary, RefusesToMeasureAnAllocatorThatIsNotServingMalloc) {
  // Asked to prove jemalloc without preloading it: glibc serves malloc, so the binary
  // must stop before measuring (status 3), naming the mismatch.
  const auto jemalloc = locate_builtin_allocator("jemalloc", ".");
  if (!jemalloc.spec) GTEST_SKIP() << "jemalloc is not installed: " << jemalloc.reason;
  const std::string err = (std::filesystem::temp_directory_path() /
                           ("allocbench_micro_err_" + std::to_string(::getpid())))
                              .string();
  const std::string command = std::string("env -u LD_PRELOAD ") + ALLOCBENCH_MICRO_EXE +
                              " --allocbench_library=" + jemalloc.spec->library +
                              " --allocbench_kind=jemalloc --benchmark_filter=none >/dev/null 2>" +
                              err;
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  std::ifstream in(err);
  const std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(message.find("allocator mismatch"), std::string::npos) << message;
  std::filesystem::remove(err);
}

class MicroCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("allocbench_micro_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ::setenv("ALLOCBENCH_MICRO", ALLOCBENCH_MICRO_EXE, 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(MicroCommand, EveryInstalledAllocatorRunsAtATinyScale) {
  const std::string out = (dir_ / "all").string();
  const CommandResult r = run_allocbench(
      {"micro", "--out=" + out, "--repetitions=1", "--min-time=0.0005", "--timeout=60"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;

  std::set<std::string> installed;
  for (const std::string &name : builtin_allocator_names())
    if (name == "glibc" || locate_builtin_allocator(name, ALLOCBENCH_EXE_DIR).spec)
      installed.insert(name);
  const ResultSet results = read_results_json(out + "/results.json");
  std::map<std::string, std::set<std::string>> benches_per_allocator;
  for (const RunRecord &run : results.runs) {
    EXPECT_TRUE(run.ok) << run.allocator << " " << run.id.key() << ": " << run.error;
    EXPECT_EQ(run.id.workload, "micro");
    ASSERT_TRUE(run.proof.has_value());
    EXPECT_FALSE(run.proof->version.empty()) << run.allocator;
    if (run.allocator != "glibc") {  // the preloaded library itself served malloc
      EXPECT_NE(run.proof->malloc_from.find(run.allocator == "fio" ? "fio" : run.allocator),
                std::string::npos)
          << run.allocator << " served by " << run.proof->malloc_from;
    }
    EXPECT_GT(*run.metrics.ops_per_s, 0.0);
    benches_per_allocator[run.allocator].insert(run.id.key());
  }
  std::set<std::string> ran;
  for (const auto &[allocator, benches] : benches_per_allocator) ran.insert(allocator);
  EXPECT_EQ(ran, installed);
  for (const auto &[allocator, benches] : benches_per_allocator) {
    EXPECT_TRUE(benches.count("micro/bench=BM_malloc_free/64/threads=1")) << allocator;
    EXPECT_TRUE(benches.count("micro/bench=BM_calloc_free/4096/threads=1")) << allocator;
    EXPECT_TRUE(benches.count("micro/bench=BM_realloc_grow/65536/threads=1")) << allocator;
    EXPECT_TRUE(benches.count("micro/bench=BM_aligned_alloc_free/4096/threads=1")) << allocator;
    EXPECT_EQ(benches.size(), benches_per_allocator.begin()->second.size());
  }
  EXPECT_EQ(results.summaries.size(), ran.size() * benches_per_allocator.begin()->second.size());
  EXPECT_TRUE(std::filesystem::exists(out + "/results.csv"));

  // Comparable: the file against itself decides nothing is worse.
  EXPECT_EQ(run_allocbench({"compare", out, out}).status, 0);
}

TEST_F(MicroCommand, MergesIntoAnExistingResultFileAndRefusesToOverwrite) {
  const std::string out = (dir_ / "merge").string();
  std::filesystem::create_directories(out);
  std::filesystem::copy_file(std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json",
                             out + "/results.json");
  const std::vector<std::string> args = {
      "micro",           "--out=" + out,     "--allocator=glibc", "--filter=BM_malloc_free/16/",
      "--repetitions=2", "--min-time=0.0005"};
  CommandResult r = run_allocbench(args);
  ASSERT_EQ(r.status, 0) << r.err;
  ResultSet merged = read_results_json(out + "/results.json");
  const std::size_t base_runs =
      read_results_json(std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json").runs.size();
  EXPECT_EQ(merged.runs.size(), base_runs + 2);
  EXPECT_EQ(merged.context.cpu_model, "AMD EPYC 7B13 64-Core Processor");  // kept

  // A second run of the same microbenchmark would replace measurements: only when asked.
  r = run_allocbench(args);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--replace"), std::string::npos) << r.err;
  std::vector<std::string> replace = args;
  replace.push_back("--replace");
  EXPECT_EQ(run_allocbench(replace).status, 0);
  EXPECT_EQ(read_results_json(out + "/results.json").runs.size(), base_runs + 2);
}

TEST_F(MicroCommand, APreloadThatDoesNotServeMallocBecomesFailedRows) {
  // libm is a loadable library that defines no malloc: the proof must refuse it.
  const auto libm = find_library("libm.so.6");
  ASSERT_TRUE(libm.has_value());
  const std::string out = (dir_ / "mismatch").string();
  const CommandResult r =
      run_allocbench({"micro", "--out=" + out, "--allocator=notmalloc=" + *libm,
                      "--filter=BM_malloc_free/16/", "--repetitions=2", "--min-time=0.0005"});
  EXPECT_EQ(r.status, 1) << r.err;
  const ResultSet results = read_results_json(out + "/results.json");
  ASSERT_EQ(results.runs.size(), 2u);
  for (const RunRecord &run : results.runs) {
    EXPECT_FALSE(run.ok);
    EXPECT_EQ(run.error.rfind("allocator mismatch: ", 0), 0u) << run.error;
  }
}

TEST_F(MicroCommand, BadInput) {
  EXPECT_EQ(run_allocbench({"micro", "--allocator=nosuch", "--out=" + dir_.string()}).status, 2);
  EXPECT_EQ(run_allocbench({"micro", "--repetitions=0", "--out=" + dir_.string()}).status, 2);
  const CommandResult r = run_allocbench(
      {"micro", "--allocator=glibc", "--filter=NoSuchBench", "--out=" + dir_.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("matches no microbenchmark"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace allocbench
