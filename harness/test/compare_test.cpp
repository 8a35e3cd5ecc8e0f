// `allocbench compare` on constructed result files (harness/test/compare_fixtures, written
// by make_fixtures.py): verdicts, exit status and the reports of what could not be decided.
#include "compare.h"

#include <cmath>
#include <functional>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "command_runner.h"

namespace allocbench {
namespace {

std::string fixture(const std::string &name) {
  return std::string(ALLOCBENCH_COMPARE_FIXTURES) + "/" + name;
}

CommandResult run(std::vector<std::string> args) {
  return run_allocbench(std::move(args));
}

CommandResult compare(const std::string &base, const std::string &next,
                      std::vector<std::string> options = {}) {
  std::vector<std::string> args = {"compare"};
  args.insert(args.end(), options.begin(), options.end());
  args.push_back(fixture(base));
  args.push_back(fixture(next));
  return run(args);
}

const BenchmarkComparison &row(const CompareReport &report, const std::string &workload,
                               const std::string &allocator) {
  for (const BenchmarkComparison &r : report.rows)
    if (r.benchmark.rfind(workload + "/", 0) == 0 && r.allocator == allocator) return r;
  ADD_FAILURE() << "no row for " << workload << " [" << allocator << "]";
  static const BenchmarkComparison none;
  return none;
}

CompareReport report_of(const std::string &base, const std::string &next,
                        CompareOptions options = {}) {
  return compare_results(load_result_file(fixture(base)), load_result_file(fixture(next)), options);
}

TEST(Compare, IdenticalInputsPass) {
  const CommandResult r = compare("base.json", "same.json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const CompareReport report = report_of("base.json", "same.json");
  ASSERT_EQ(report.rows.size(), 6u);
  for (const BenchmarkComparison &row : report.rows) {
    EXPECT_EQ(row.verdict, Verdict::kUnchanged) << row.benchmark << " " << row.allocator;
    EXPECT_DOUBLE_EQ(row.change, 0.0);
    EXPECT_DOUBLE_EQ(row.p_value, 1.0);
  }
  EXPECT_TRUE(report.context_differences.empty());
  EXPECT_NE(r.out.find("no significant regression"), std::string::npos);
}

TEST(Compare, PlantedRegressionFails) {
  const CommandResult r = compare("base.json", "regressed.json");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("REGRESSION"), std::string::npos) << r.out;

  const CompareReport report = report_of("base.json", "regressed.json");
  const BenchmarkComparison &fio = row(report, "group-free", "fio");
  EXPECT_EQ(fio.verdict, Verdict::kRegressed);
  EXPECT_NEAR(fio.change, -0.30, 0.03);
  EXPECT_LT(fio.p_value, 0.05);
  EXPECT_EQ(report.count(Verdict::kRegressed), 1u);
  // The crashed glibc repetition is left out and said so.
  EXPECT_EQ(row(report, "alloc-free", "glibc").n_new, 5u);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_NE(r.out.find("0 failed repetition(s) in base, 1 in new"), std::string::npos) << r.out;
}

TEST(Compare, RegressionBelowTheMinimumEffectPasses) {
  // 30% slower, but the bound is 40%: significant, not large enough.
  const CommandResult r = compare("base.json", "regressed.json", {"--min-effect=40%"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  CompareOptions options;
  options.min_effect = 0.4;
  const CompareReport report = report_of("base.json", "regressed.json", options);
  EXPECT_EQ(row(report, "group-free", "fio").verdict, Verdict::kUnchanged);
  EXPECT_NE(r.out.find("smaller than the minimum effect"), std::string::npos) << r.out;
}

TEST(Compare, PlantedImprovementPassesAndIsReported) {
  const CommandResult r = compare("base.json", "improved.json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const CompareReport report = report_of("base.json", "improved.json");
  const BenchmarkComparison &fio = row(report, "group-free", "fio");
  EXPECT_EQ(fio.verdict, Verdict::kImproved);
  EXPECT_NEAR(fio.change, 0.25, 0.03);
  EXPECT_EQ(report.count(Verdict::kImproved), 1u);
  EXPECT_NE(r.out.find("improved"), std::string::npos) << r.out;
}

TEST(Compare, SmallerIsBetterMetricReversesTheDirection) {
  // wall_s grows when throughput falls: the planted regression is still a regression.
  CompareOptions options;
  options.metric = "wall_s";
  const CompareReport report = report_of("base.json", "regressed.json", options);
  EXPECT_EQ(row(report, "group-free", "fio").verdict, Verdict::kRegressed);
  EXPECT_GT(row(report, "group-free", "fio").change, 0.3);
}

TEST(Compare, TooFewRepetitionsAreReported) {
  // 6 against 2 repetitions: the smallest possible p is 2 / C(8, 2) = 0.071 > 0.05.
  const CommandResult r = compare("base.json", "few_reps.json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("too few repetitions"), std::string::npos) << r.out;
  const CompareReport report = report_of("base.json", "few_reps.json");
  for (const BenchmarkComparison &row : report.rows) {
    EXPECT_EQ(row.verdict, Verdict::kInconclusive);
    EXPECT_NEAR(row.min_p, 2.0 / 28.0, 1e-12);
    EXPECT_NE(row.reason.find("use at least 4 per side"), std::string::npos) << row.reason;
  }
  // A looser alpha makes the same data decidable.
  const CommandResult loose = compare("base.json", "few_reps.json", {"--alpha=0.1"});
  EXPECT_EQ(loose.out.find("too few repetitions"), std::string::npos) << loose.out;
}

TEST(Compare, BenchmarkOnOneSideOnlyIsReported) {
  const CommandResult r = compare("base.json", "missing.json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const CompareReport report = report_of("base.json", "missing.json");
  ASSERT_EQ(report.only_in_base.size(), 1u);
  EXPECT_EQ(report.only_in_base[0], "alloc-free/size=16..512,live=0,touch=full/threads=2 [fio]");
  ASSERT_EQ(report.only_in_new.size(), 2u);
  EXPECT_NE(report.only_in_new[0].find("random-lifetime"), std::string::npos);
  EXPECT_NE(r.out.find("only in base"), std::string::npos);
  EXPECT_NE(r.out.find("only in new"), std::string::npos);
  // A CI gate on a stale baseline: what BASE has and NEW lacks is no data.
  EXPECT_EQ(compare("base.json", "missing.json", {"--require-base"}).status, 3);
  EXPECT_EQ(compare("missing.json", "base.json", {"--require-base"}).status, 3);
  EXPECT_EQ(compare("base.json", "same.json", {"--require-base"}).status, 0);
}

TEST(Compare, ContextMismatchIsReported) {
  const CommandResult r = compare("base.json", "other_machine.json");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const CompareReport report = report_of("base.json", "other_machine.json");
  const auto has = [&](const std::string &text) {
    for (const std::string &d : report.context_differences)
      if (d.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("cpu_model: 'AMD EPYC 7B13 64-Core Processor' -> 'Intel(R) Xeon(R)"));
  EXPECT_TRUE(has("cpu_count: '2' -> '4'"));
  EXPECT_TRUE(has("fio version: '0.1.0' -> '0.2.0'"));
  EXPECT_FALSE(has("glibc version"));
  EXPECT_FALSE(has("build_type"));
  EXPECT_NE(r.out.find("contexts differ"), std::string::npos) << r.out;
}

TEST(Compare, RatioModeCancelsAUniformSlowdown) {
  // Every allocator 50% slower: a slower machine. Absolute figures read as a regression...
  EXPECT_EQ(compare("base.json", "slow_machine.json").status, 1);
  // ...ratios to glibc measured in the same run do not.
  const CommandResult r = compare("base.json", "slow_machine.json", {"--ratio-to=glibc"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  CompareOptions options;
  options.ratio_to = "glibc";
  const CompareReport report = report_of("base.json", "slow_machine.json", options);
  ASSERT_EQ(report.rows.size(), 3u);  // glibc is the unit, not compared
  for (const BenchmarkComparison &row : report.rows) {
    EXPECT_EQ(row.allocator, "fio");
    EXPECT_NE(row.verdict, Verdict::kRegressed);
    EXPECT_LT(std::fabs(row.change), 0.05) << row.benchmark;
  }
  EXPECT_NEAR(row(report, "group-free", "fio").base_median, 1.5, 0.05);  // 60M / 40M
}

TEST(Compare, RatioModeStillCatchesARealRegression) {
  const CommandResult r =
      compare("base.json", "regressed.json", {"--ratio-to=glibc", "--min-effect=20%"});
  EXPECT_EQ(r.status, 1) << r.out;
}

TEST(Compare, AllocatorFilter) {
  CompareOptions options;
  options.allocators = {"glibc"};
  const CompareReport report = report_of("base.json", "regressed.json", options);
  EXPECT_EQ(report.rows.size(), 3u);
  EXPECT_FALSE(report.has_regression());
  EXPECT_EQ(compare("base.json", "regressed.json", {"--allocator=glibc"}).status, 0);
  EXPECT_EQ(compare("base.json", "regressed.json", {"--allocator=jemalloc"}).status, 2);
}

class CompareBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("allocbench_compare_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string &name, const std::string &text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(CompareBadInput, EachGetsStatus2AndAOneLineReason) {
  const std::string base = fixture("base.json");
  // base.json with one run that lost its allocator.
  std::ifstream in(base);
  Json broken = Json::parse(in);
  broken["runs"][3].erase("allocator");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"compare", base, (dir_ / "absent.json").string()}, "cannot open"},
      {{"compare", base, write("garbage.json", "{ not json")}, "not valid JSON"},
      {{"compare", base, write("v4.json", R"({"schema_version": 4, "runs": []})")},
       "schema_version 4"},
      {{"compare", base, write("noruns.json", R"({"schema_version": 1})")},
       "not an allocbench result file"},
      {{"compare", base, write("badrun.json", broken.dump())}, "allocator"},
      {{"compare", "--alpha=1.5", base, base}, "alpha must be in (0, 1)"},
      {{"compare", "--min-effect=lots", base, base}, "--min-effect 'lots'"},
      {{"compare", "--min-effect=40", base, base}, "write 40% for a percentage"},
      {{"compare", "--metric=speed", base, base}, "unknown metric 'speed'"},
      {{"compare", "--ratio-to=jemalloc", base, base}, "no runs of the reference allocator"},
      {{"compare", base}, "NEW is required"},
      {{"compare", "--bogus", base, base}, "--bogus"},
  };
  for (const auto &[args, expected] : cases) {
    const CommandResult r = run(args);
    EXPECT_EQ(r.status, 2) << args.back() << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos)
        << "expected '" << expected << "' in: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(Compare, HelpExitsZero) {
  const CommandResult r = run({"compare", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--ratio-to"), std::string::npos) << r.out;
}

// A copy of a fixture, changed, in a temporary file.
std::string changed_fixture(const std::string &name, const std::string &out,
                            const std::function<void(Json &)> &change) {
  std::ifstream in(fixture(name));
  Json j = Json::parse(in);
  change(j);
  const std::string path = ::testing::TempDir() + "/allocbench_compare_" + out;
  std::ofstream(path) << j.dump(1);
  return path;
}

// A CI job whose benchmarks all crashed must not go green: NEW holds only failed runs.
TEST(Compare, OnlyFailedRunsIsNoData) {
  const std::string crashed = changed_fixture("same.json", "crashed.json", [](Json &j) {
    for (Json &run : j["runs"]) {
      run["status"] = "failed";
      run["error"] = "crashed: SIGSEGV";
    }
  });
  const CommandResult r = run({"compare", fixture("base.json"), crashed});
  EXPECT_EQ(r.status, kExitNoData) << r.out << r.err;
  EXPECT_NE(r.out.find("NO DATA: 6 benchmark(s) have no successful repetition"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("no significant regression"), std::string::npos) << r.out;
  const CompareReport report =
      compare_results(load_result_file(fixture("base.json")), load_result_file(crashed), {});
  for (const BenchmarkComparison &row : report.rows) EXPECT_EQ(row.verdict, Verdict::kNoData);
  EXPECT_TRUE(report.lacks_data());
}

// One benchmark without data among good ones fails the gate too, even in ratio mode.
TEST(Compare, OneBenchmarkWithoutDataFails) {
  const std::string one = changed_fixture("same.json", "one_crashed.json", [](Json &j) {
    for (Json &run : j["runs"])
      if (run["workload"] == "group-free" && run["allocator"] == "fio") run["status"] = "failed";
  });
  EXPECT_EQ(run({"compare", fixture("base.json"), one}).status, kExitNoData);
  EXPECT_EQ(run({"compare", "--ratio-to=glibc", fixture("base.json"), one}).status, kExitNoData);
  // The reference without a successful run: the ratio rests on nothing.
  const std::string ref = changed_fixture("same.json", "ref_crashed.json", [](Json &j) {
    for (Json &run : j["runs"])
      if (run["workload"] == "group-free" && run["allocator"] == "glibc") run["status"] = "failed";
  });
  EXPECT_EQ(run({"compare", "--ratio-to=glibc", fixture("base.json"), ref}).status, kExitNoData);
}

TEST(Compare, NoBenchmarkInCommonIsNoData) {
  const std::string other = changed_fixture("same.json", "other.json", [](Json &j) {
    for (Json &run : j["runs"]) run["params"]["renamed"] = "1";
    j["summaries"] = Json::array();
  });
  const CommandResult r = run({"compare", fixture("base.json"), other});
  EXPECT_EQ(r.status, kExitNoData) << r.out << r.err;
  EXPECT_NE(r.out.find("NO DATA: no benchmark is present in both files"), std::string::npos)
      << r.out;
}

// `runs: null` is not an empty list: the file is refused before any verdict.
TEST(Compare, NullRunsIsRefused) {
  const std::string null_runs =
      changed_fixture("same.json", "null_runs.json", [](Json &j) { j["runs"] = nullptr; });
  const CommandResult r = run({"compare", fixture("base.json"), null_runs});
  EXPECT_EQ(r.status, kExitUsage) << r.out << r.err;
  EXPECT_NE(r.err.find("'runs' is null"), std::string::npos) << r.err;
}

// Negative or infinite metrics never become verdicts.
TEST(Compare, ImpossibleMetricsAreRefused) {
  const std::string negative = changed_fixture(
      "same.json", "negative.json", [](Json &j) { j["runs"][0]["metrics"]["ops_per_s"] = -40e6; });
  CommandResult r = run({"compare", fixture("base.json"), negative});
  EXPECT_EQ(r.status, kExitUsage) << r.out << r.err;
  EXPECT_NE(r.err.find("ops_per_s"), std::string::npos) << r.err;
  std::string text;
  {
    std::ifstream in(fixture("same.json"));
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  const std::size_t at = text.find("\"ops_per_s\": ");
  ASSERT_NE(at, std::string::npos);
  const std::size_t end = text.find_first_of(",\n}", at + 13);
  text.replace(at + 13, end - at - 13, "1e999");
  const std::string infinite = ::testing::TempDir() + "/allocbench_compare_infinite.json";
  std::ofstream(infinite) << text;
  r = run({"compare", fixture("base.json"), infinite});
  EXPECT_EQ(r.status, kExitUsage) << r.out << r.err;
}

}  // namespace
}  // namespace allocbench
