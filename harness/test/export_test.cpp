// The exports checked against the fields each format documents:
//  - github-action-benchmark, "custom" tools: an array of {name, unit, value} with optional
//    string `range` and `extra` (README of benchmark-action/github-action-benchmark);
//  - Bencher Metric Format: {benchmark: {measure: {value, lower_value?, upper_value?}}},
//    numbers, measure slugs at most 64 characters, benchmark names at most 1024
//    (bencher.dev/docs/reference/bencher-metric-format, its JSON schema);
//  - Google Benchmark's JSON reporter: context + benchmarks with name, run_name, run_type,
//    repetitions, threads, iterations, real_time, cpu_time, time_unit, and per aggregate
//    aggregate_name / aggregate_unit.
#include "export.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "command_runner.h"
#include "statistics.h"

namespace allocbench {
namespace {

using json = Json;

ResultFile base() {
  return load_result_file(std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json");
}

TEST(ExportGithubActionBenchmark, ThroughputEntriesHaveTheDocumentedFields) {
  const ResultFile file = base();
  const json doc = export_github_action_benchmark(file, "ops_per_s");
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), file.sets.size());
  std::set<std::string> names;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const json &e = doc[i];
    for (const auto &[key, value] : e.items()) {
      EXPECT_TRUE(key == "name" || key == "unit" || key == "value" || key == "range" ||
                  key == "extra")
          << "undocumented key " << key;
      (void)value;
    }
    ASSERT_TRUE(e.at("name").is_string());
    ASSERT_TRUE(e.at("unit").is_string());
    ASSERT_TRUE(e.at("value").is_number());
    EXPECT_TRUE(e.at("range").is_string());
    EXPECT_TRUE(e.at("extra").is_string());
    names.insert(e["name"].get<std::string>());
    EXPECT_EQ(e["unit"], "ops/s");
    EXPECT_EQ(e["name"], file.sets[i].benchmark + "/allocator=" + file.sets[i].allocator);
    EXPECT_DOUBLE_EQ(e["value"].get<double>(), median(file.sets[i].values("ops_per_s")));
    EXPECT_EQ(e["range"].get<std::string>().rfind("± ", 0), 0u);
  }
  EXPECT_EQ(names.size(), doc.size()) << "names must be unique";
  EXPECT_EQ(github_action_benchmark_tool("ops_per_s"), "customBiggerIsBetter");
}

TEST(ExportGithubActionBenchmark, RssIsSmallerIsBetter) {
  const json doc = export_github_action_benchmark(base(), "peak_rss_kib");
  ASSERT_FALSE(doc.empty());
  for (const json &e : doc) EXPECT_EQ(e.at("unit"), "KiB");
  EXPECT_EQ(github_action_benchmark_tool("peak_rss_kib"), "customSmallerIsBetter");
  EXPECT_THROW(export_github_action_benchmark(base(), "speed"), std::invalid_argument);
}

TEST(ExportBencher, FollowsTheBmfSchema) {
  const ResultFile file = base();
  const json doc = export_bencher(file);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.size(), file.sets.size());
  for (const auto &[benchmark, measures] : doc.items()) {
    EXPECT_FALSE(benchmark.empty());
    EXPECT_LE(benchmark.size(), 1024u);
    ASSERT_TRUE(measures.is_object());
    ASSERT_TRUE(measures.contains("throughput"));  // Bencher's built-in ops/s measure
    for (const auto &[slug, metric] : measures.items()) {
      EXPECT_LE(slug.size(), 64u);
      ASSERT_TRUE(metric.is_object());
      ASSERT_TRUE(metric.contains("value"));  // the one required field
      for (const auto &[key, value] : metric.items()) {
        EXPECT_TRUE(key == "value" || key == "lower_value" || key == "upper_value") << key;
        EXPECT_TRUE(value.is_number()) << key;
      }
      EXPECT_LE(metric["lower_value"].get<double>(), metric["value"].get<double>());
      EXPECT_GE(metric["upper_value"].get<double>(), metric["value"].get<double>());
    }
  }
  const SampleSet &first = file.sets.front();
  EXPECT_DOUBLE_EQ(doc[export_benchmark_name(first)]["throughput"]["value"].get<double>(),
                   median(first.values("ops_per_s")));
  EXPECT_TRUE(doc[export_benchmark_name(first)].contains("peak-rss-kib"));
}

TEST(ExportGoogleBenchmark, HasTheReporterFields) {
  const ResultFile file = base();
  const json doc = export_google_benchmark(file);
  const json &context = doc.at("context");
  for (const char *key : {"date", "host_name", "executable", "library_build_type"})
    EXPECT_TRUE(context.at(key).is_string()) << key;
  EXPECT_EQ(context.at("num_cpus"), 2);
  EXPECT_EQ(context.at("library_build_type"), "release");

  const json &benchmarks = doc.at("benchmarks");
  ASSERT_TRUE(benchmarks.is_array());
  std::size_t iterations_rows = 0;
  std::set<std::string> aggregates;
  for (const json &b : benchmarks) {
    for (const char *key : {"name", "run_name", "run_type", "time_unit"})
      ASSERT_TRUE(b.at(key).is_string()) << key;
    for (const char *key :
         {"family_index", "per_family_instance_index", "repetitions", "threads", "iterations"})
      ASSERT_TRUE(b.at(key).is_number_integer()) << key;
    for (const char *key : {"real_time", "cpu_time", "items_per_second"})
      ASSERT_TRUE(b.at(key).is_number()) << key;
    EXPECT_EQ(b["time_unit"], "ns");
    EXPECT_EQ(b["repetitions"], 6);
    if (b["run_type"] == "iteration") {
      ++iterations_rows;
      EXPECT_EQ(b["name"], b["run_name"]);
      ASSERT_TRUE(b.at("repetition_index").is_number_integer());
      // One iteration is one operation: time per operation times operations per second.
      EXPECT_NEAR(b["real_time"].get<double>() * b["items_per_second"].get<double>(), 1e9, 1e3);
    } else {
      ASSERT_EQ(b["run_type"], "aggregate");
      const std::string name = b.at("aggregate_name");
      aggregates.insert(name);
      EXPECT_EQ(b["name"], b["run_name"].get<std::string>() + "_" + name);
      EXPECT_EQ(b.at("aggregate_unit"), name == "cv" ? "percentage" : "time");
    }
  }
  EXPECT_EQ(iterations_rows, 6 * file.sets.size());
  EXPECT_EQ(aggregates, (std::set<std::string>{"mean", "median", "stddev", "cv"}));

  // The median aggregate is the median of the repetitions.
  const SampleSet &first = file.sets.front();
  const auto median = std::find_if(benchmarks.begin(), benchmarks.end(), [&](const json &b) {
    return b["name"] == export_benchmark_name(first) + "_median";
  });
  ASSERT_NE(median, benchmarks.end());
  EXPECT_NEAR((*median)["items_per_second"].get<double>(),
              allocbench::median(first.values("ops_per_s")),
              1e-6 * allocbench::median(first.values("ops_per_s")));
}

class ExportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("allocbench_export_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int run(std::vector<std::string> args, std::string *out = nullptr, std::string *err = nullptr) {
    args.insert(args.begin(), "export");
    const CommandResult r = run_allocbench(std::move(args));
    if (out) *out = r.out;
    if (err) *err = r.err;
    return r.status;
  }
  std::filesystem::path dir_;
};

TEST_F(ExportCommand, WritesEachFormat) {
  const std::string input = std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json";
  for (const char *format : {"github-action-benchmark", "bencher", "gbench"}) {
    const std::string path = (dir_ / (std::string(format) + ".json")).string();
    std::string err;
    ASSERT_EQ(run({std::string("--format=") + format, input, "-o", path}, nullptr, &err), 0) << err;
    std::ifstream in(path);
    const json doc = json::parse(in);
    EXPECT_FALSE(doc.empty()) << format;
  }
  std::string out;
  ASSERT_EQ(run({"--format=bencher", input}, &out), 0);
  EXPECT_TRUE(json::parse(out).is_object());
}

TEST_F(ExportCommand, RunsThatAllFailedAreLeftOutAndSaidSo) {
  // base.json with every repetition marked as crashed.
  std::ifstream in(std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json");
  json doc = json::parse(in);
  for (json &r : doc["runs"]) {
    r["status"] = "failed";
    r["error"] = "crashed: SIGSEGV";
    r["metrics"] = json::object();
  }
  const std::string path = (dir_ / "failed.json").string();
  std::ofstream(path) << doc.dump();
  std::string out, err;
  ASSERT_EQ(run({"--format=bencher", path}, &out, &err), 0);
  EXPECT_EQ(json::parse(out), json::object());
  EXPECT_NE(err.find("has no successful repetition"), std::string::npos) << err;
}

TEST_F(ExportCommand, BadInput) {
  const std::string input = std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/base.json";
  std::string err;
  EXPECT_EQ(run({"--format=csv", input}, nullptr, &err), 2);
  EXPECT_NE(err.find("unknown format 'csv'"), std::string::npos) << err;
  EXPECT_EQ(run({"--format=bencher", (dir_ / "absent.json").string()}, nullptr, &err), 2);
  EXPECT_EQ(
      run({"--format=bencher", input, "-o", (dir_ / "no/such/dir/x.json").string()}, nullptr, &err),
      2);
  EXPECT_NE(err.find("cannot write"), std::string::npos) << err;
  EXPECT_EQ(run({input}, nullptr, &err), 2);
}

}  // namespace
}  // namespace allocbench
