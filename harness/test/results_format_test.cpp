// The result formats against harness/RESULTS.md and the golden files in golden/.
// ALLOCBENCH_UPDATE_GOLDEN=1 rewrites the golden files (then review the diff).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "metrics.h"
#include "output_file.h"
#include "result_reader.h"
#include "result_writer.h"
#include "results.h"

#ifndef ALLOCBENCH_HARNESS_DIR
#error "ALLOCBENCH_HARNESS_DIR must name the harness source directory"
#endif

namespace allocbench {
namespace {

namespace fs = std::filesystem;

TEST(MetricCatalogue, EveryEntryIsMeasuredAndEveryComparedOneHasADirection) {
  RunMetrics filled;
  filled.allocs = 10;
  filled.frees = 10;
  filled.wall_s = 2.0;
  filled.user_s = filled.sys_s = 1.0;
  filled.peak_rss_kib = 8;
  filled.minor_faults = filled.major_faults = 1;
  filled.vol_ctx_switches = filled.invol_ctx_switches = 1;
  filled.peak_live_bytes = 1024;
  derive_metrics(filled);
  std::set<std::string_view> names;
  for (const MetricDef &m : metric_catalogue()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name << " is in the catalogue twice";
    EXPECT_FALSE(m.unit.empty()) << m.name;
    // A run column is a RunMetrics field that metric_value knows and a full run fills.
    if (m.run_column) {
      EXPECT_TRUE(metric_value(filled, std::string(m.name)).has_value()) << m.name;
    }
    if (m.comparable) {
      EXPECT_NE(m.better, Better::kNeither) << m.name << ": compared, no direction";
    }
    if (m.summary_rank > 0) {
      EXPECT_TRUE(m.run_column) << m.name << ": summarised, not a column";
    }
  }
  EXPECT_EQ(find_metric_def("ops_per_s")->better, Better::kHigher);
  EXPECT_EQ(find_metric_def("wall_s")->better, Better::kLower);
  EXPECT_EQ(find_metric_def("no_such_metric"), nullptr);
  // The CSV header holds every run column and latency percentile of the catalogue once;
  // the others (counted, hardware counters) are a run's extra figures (JSON).
  const std::vector<std::string> &columns = csv_columns();
  const std::vector<std::string> &latency = latency_metric_names();
  for (const MetricDef &m : metric_catalogue()) {
    const bool column = m.run_column || std::count(latency.begin(), latency.end(), m.name) > 0;
    EXPECT_EQ(std::count(columns.begin(), columns.end(), std::string(m.name)), column ? 1 : 0)
        << m.name;
    if (m.counted) {
      EXPECT_FALSE(column) << m.name;
    }
  }
}

std::string read_file(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path golden(const std::string &name) {
  return fs::path(ALLOCBENCH_HARNESS_DIR) / "test" / "golden" / name;
}

void expect_matches_golden(const std::string &name, const std::string &actual) {
  if (std::getenv("ALLOCBENCH_UPDATE_GOLDEN"))
    std::ofstream(golden(name), std::ios::binary) << actual;
  EXPECT_EQ(actual, read_file(golden(name))) << "differs from " << golden(name);
}

fs::path temp_dir(const std::string &name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("allocbench_format_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Context fixed_context() {
  Context c;
  c.date = "2026-11-27T10:00:00Z";
  c.host = "bench-host";
  c.cpu_model = "Test CPU @ 3.0GHz";
  c.cpu_count = 2;
  c.kernel = "Linux 6.1.0 x86_64";
  c.compiler = "GCC 12.2.0";
  c.build_type = "Release";
  c.git_revision = "abc1234def56 (dirty)";
  c.allocbench_version = "0.1.0";
  c.command_line = "./allocbench --workload=group-free --threads=1,2";
  c.hardware_counters = "instructions, cycles (perf_event_open, user space)";
  c.allocators = {
      {"glibc", "/lib/x86_64-linux-gnu/libc.so.6", "2.36", true, "", "#6e6e6e", "o"},
      {"tcmalloc", std::nullopt, std::nullopt, false, "libtcmalloc.so.4 not found", "#2ca02c", "D"},
      {"mine", "/opt/lib/libmine.so", "unknown", true, "", std::nullopt, std::nullopt}};
  return c;
}

RunRecord ok_run(unsigned repetition, std::uint64_t allocs, double wall_s, std::uint64_t rss) {
  RunRecord r;
  r.id = BenchmarkId{
      "group-free", {{"group", "4096"}, {"zeroed", "false"}, {"touch", "full"}}, "16..512", 2};
  r.allocator = "glibc";
  r.repetition = repetition;
  r.ok = true;
  r.metrics.allocs = allocs;
  r.metrics.frees = allocs;
  r.metrics.wall_s = wall_s;
  r.metrics.user_s = 0.5;
  r.metrics.sys_s = 0.25;
  r.metrics.peak_rss_kib = rss;
  r.metrics.minor_faults = 1200;
  r.metrics.major_faults = 0;
  r.metrics.vol_ctx_switches = 3;
  r.metrics.invol_ctx_switches = 7;
  r.metrics.peak_live_bytes = 1048576;
  derive_metrics(r.metrics);
  r.extra["blocks"] = 12.5;
  r.proof = AllocatorProof{"/lib/x86_64-linux-gnu/libc.so.6", "2.36"};
  return r;
}

ResultSet fixed_results() {
  ResultSet set;
  set.context = fixed_context();
  set.runs.push_back(ok_run(0, 1000000, 0.5, 8192));
  set.runs.push_back(ok_run(1, 1000000, 0.25, 8000));
  RunRecord latency = ok_run(2, 1000000, 0.4, 8100);
  latency.latency_ns = LatencySummary{25, 80, 1500, 90000, 4096, 12};
  latency.rss_timeline = RssTimeline{10, {0, 10, 20}, {1024, 4096, 8100}};
  set.runs.push_back(latency);
  RunRecord failed;
  failed.id = ok_run(0, 1, 1, 1).id;
  failed.allocator = "glibc";
  failed.repetition = 3;
  failed.ok = false;
  failed.error = "crashed: SIGSEGV; stderr: a, \"quoted\"|second line";
  failed.metrics.user_s = 0.125;
  set.runs.push_back(failed);
  return set;
}

TEST(ResultFormat, CsvColumnsAreTheDocumentedOnes) {
  // Every `name` in the first column of the CSV table of RESULTS.md, in order.
  std::ifstream in(fs::path(ALLOCBENCH_HARNESS_DIR) / "RESULTS.md");
  std::string line;
  bool in_csv = false;
  std::vector<std::string> documented;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_csv = line.find("CSV") != std::string::npos;
    if (in_csv && line.rfind("| `", 0) == 0) {
      const auto end = line.find('`', 3);
      documented.push_back(line.substr(3, end - 3));
    }
  }
  EXPECT_EQ(documented, csv_columns());
}

TEST(ResultFormat, CsvHeaderGolden) {
  expect_matches_golden("results_header.csv", csv_header_line());
}

TEST(ResultFormat, CsvAndJsonGolden) {
  const fs::path dir = temp_dir("golden");
  const ResultSet set = fixed_results();
  {
    ResultFiles files(dir.string(), {OutputFormat::kCsv, OutputFormat::kJson}, set.context);
    for (const RunRecord &r : set.runs) files.add(r);
  }
  expect_matches_golden("results.csv", read_file(dir / "results.csv"));
  expect_matches_golden("results.json", read_file(dir / "results.json"));
  EXPECT_FALSE(fs::exists(dir / "results.json.tmp"));
}

TEST(ResultFormat, JsonRoundTrip) {
  const ResultSet read = read_results_json(golden("results.json").string());
  EXPECT_EQ(read.schema_version, kSchemaVersion);
  ASSERT_EQ(read.runs.size(), 4u);
  ASSERT_EQ(read.summaries.size(), 1u);
  EXPECT_EQ(read.summaries[0].n, 3u);
  EXPECT_EQ(read.summaries[0].failed, 1u);
  EXPECT_EQ(to_json(read), Json::parse(read_file(golden("results.json"))));
  EXPECT_EQ(read.runs[3].error, "crashed: SIGSEGV; stderr: a, \"quoted\"|second line");
  EXPECT_EQ(read.runs[0].id.key(),
            "group-free/size=16..512,group=4096,zeroed=false,touch=full/threads=2");
}

TEST(ResultFormat, CsvReadBack) {
  const CsvTable table = read_results_csv(golden("results.csv").string());
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[3][7], "failed");
  EXPECT_EQ(table.rows[3][8], "crashed: SIGSEGV; stderr: a, \"quoted\"|second line");
  EXPECT_EQ(table.rows[0][13], "4000000");  // ops_per_s = 2,000,000 ops / 0.5 s
}

TEST(ResultFormat, SummariesUseOnlyOkRuns) {
  const std::vector<Summary> s = summarize(fixed_results().runs);
  ASSERT_EQ(s.size(), 1u);
  const MetricStats *ops = s[0].find("ops_per_s");
  ASSERT_NE(ops, nullptr);
  // 2e6 ops over 0.5, 0.25 and 0.4 s: 4e6, 8e6, 5e6 ops/s.
  EXPECT_DOUBLE_EQ(ops->median, 5e6);
  EXPECT_DOUBLE_EQ(ops->min, 4e6);
  EXPECT_DOUBLE_EQ(ops->max, 8e6);
  EXPECT_EQ(s[0].find("no_such_metric"), nullptr);
}

TEST(ResultFormat, DerivedMetrics) {
  RunMetrics m;
  m.allocs = 30;
  m.frees = 10;
  m.wall_s = 2.0;
  m.peak_rss_kib = 4;
  m.peak_live_bytes = 2048;
  derive_metrics(m);
  EXPECT_EQ(m.ops, 40u);
  EXPECT_DOUBLE_EQ(*m.ops_per_s, 20.0);
  EXPECT_DOUBLE_EQ(*m.mem_efficiency, 2.0);
  RunMetrics empty;
  derive_metrics(empty);
  EXPECT_FALSE(empty.ops_per_s.has_value());
}

TEST(ResultFormat, CsvEscaping) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_split("a,\"b,c\",\"d\"\"e\",,f"),
            (std::vector<std::string>{"a", "b,c", "d\"e", "", "f"}));
}

TEST(ResultFormat, ReaderRefusesOtherFiles) {
  const fs::path dir = temp_dir("reader");
  std::ofstream(dir / "bad.json") << "{\"schema_version\": 2}";
  EXPECT_THROW(read_results_json((dir / "bad.json").string()), std::runtime_error);
  std::ofstream(dir / "broken.json") << "{";
  EXPECT_THROW(read_results_json((dir / "broken.json").string()), std::runtime_error);
  std::ofstream(dir / "bad.csv") << "a,b\n1,2\n";
  EXPECT_THROW(read_results_csv((dir / "bad.csv").string()), std::runtime_error);
  EXPECT_THROW(read_results_json((dir / "missing.json").string()), std::runtime_error);
}

// Every value a reader uses is checked: a document that parses as JSON but holds null
// where a list belongs, a negative or infinite measurement, or another schema version is
// refused with a message naming the key, never read as empty or as a number.
TEST(ResultFormat, ReaderValidatesValues) {
  const Json good = Json::parse(read_file(golden("results.json")));
  EXPECT_NO_THROW(parse_results_json(good.dump(), "good.json"));
  auto refused = [&](const std::string &text, const std::string &part) {
    try {
      parse_results_json(text, "bad.json");
      ADD_FAILURE() << "accepted: " << text.substr(0, 200);
    } catch (const std::runtime_error &e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  };
  auto with = [&](auto change) {
    Json j = good;
    change(j);
    return j.dump();
  };
  refused(with([](Json &j) { j["runs"] = nullptr; }), "'runs' is null, not an array");
  refused(with([](Json &j) { j["summaries"] = 3; }), "'summaries' is number, not an array");
  refused(with([](Json &j) { j["schema_version"] = 4; }), "schema_version 4");
  refused(with([](Json &j) { j["schema_version"] = 0; }), "schema_version 0");
  // Version 1 (no chart colours in the context) is still read.
  const auto version_1 = [](Json &j) {
    j["schema_version"] = 1;
    for (auto &entry : j["context"]["allocators"].items()) {
      entry.value().erase("colour");
      entry.value().erase("marker");
    }
  };
  const ResultSet v1 = parse_results_json(with(version_1), "v1.json");
  EXPECT_FALSE(v1.context.allocators.at(0).colour);
  // Before version 3 a workload's key did not name its touch level: read as the level it
  // ran at, so that the benchmark matches today's.
  const auto version_2_of = [&](const std::string &workload) {
    return with([&](Json &j) {
      j["schema_version"] = 2;
      for (Json *list : {&j["runs"], &j["summaries"]})
        for (Json &entry : *list) {
          entry["workload"] = workload;
          entry["params"].erase("touch");
        }
    });
  };
  for (const auto &[workload, level] : std::vector<std::pair<std::string, std::string>>{
           {"group-free", "full"}, {"trace-replay", "pages"}}) {
    const ResultSet old = parse_results_json(version_2_of(workload), "v2.json");
    ASSERT_FALSE(old.runs.empty());
    for (const RunRecord &run : old.runs)
      EXPECT_EQ(run.id.params.back(), std::make_pair(std::string("touch"), level));
    for (const Summary &summary : old.summaries)
      EXPECT_NE(summary.id.key().find(",touch=" + level + "/threads="), std::string::npos);
  }
  const ResultSet micro = parse_results_json(version_2_of("micro"), "v2.json");
  for (const RunRecord &run : micro.runs)
    for (const auto &[name, value] : run.id.params) EXPECT_NE(name, "touch");
  refused(with([](Json &j) { j["schema_version"] = "1"; }), "schema_version \"1\"");
  refused(with([](Json &j) { j["runs"][0]["metrics"]["ops_per_s"] = -5.0; }),
          "runs[0]: key 'ops_per_s' is -5.0");
  refused(with([](Json &j) { j["runs"][0]["metrics"]["peak_rss_kib"] = -1; }),
          "not a non-negative integer");
  refused(with([](Json &j) { j["runs"][0]["metrics"]["wall_s"] = "fast"; }), "'wall_s'");
  refused(with([](Json &j) { j["runs"][0]["metrics"]["ops_per_s"] = 0.0; }), "status ok has zero");
  refused(with([](Json &j) { j["runs"][0]["threads"] = 0; }), "'threads' is 0");
  refused(with([](Json &j) { j["runs"][0]["latency_ns"] = {{"p50", -1}}; }), "'p50'");
  // 1e999 parses as infinity in some readers; here it is refused either way.
  std::string text = good.dump();
  const std::string ops = "\"ops_per_s\":4000000.0";
  ASSERT_NE(text.find(ops), std::string::npos);
  text.replace(text.find(ops), ops.size(), "\"ops_per_s\":1e999");
  EXPECT_THROW(parse_results_json(text, "inf.json"), std::runtime_error);
  refused(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "not valid JSON");
  refused("[]", "not a JSON object");
}

TEST(ResultFormat, CsvReaderValidatesValues) {
  const std::string good = read_file(golden("results.csv"));
  EXPECT_NO_THROW(parse_results_csv(good, "good.csv"));
  const std::vector<std::string> lines = [&] {
    std::vector<std::string> out;
    std::stringstream in(good);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }();
  auto row_with = [&](std::size_t column, const std::string &value) {
    std::vector<std::string> fields = csv_split(lines[1]);
    fields[column] = value;
    std::string row;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) row += ',';
      row += csv_escape(fields[i]);
    }
    return lines[0] + "\n" + row + "\n";
  };
  const auto &c = csv_columns();
  auto at = [&](const char *name) {
    return static_cast<std::size_t>(std::find(c.begin(), c.end(), name) - c.begin());
  };
  EXPECT_THROW(parse_results_csv(row_with(at("ops_per_s"), "-3"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(row_with(at("ops_per_s"), "inf"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(row_with(at("ops_per_s"), "0"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(row_with(at("wall_s"), "fast"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(row_with(at("status"), "great"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(row_with(at("threads"), "0"), "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(lines[0] + "\n\"open,quote\n", "x.csv"), std::runtime_error);
  EXPECT_THROW(parse_results_csv(std::string("a\0b", 3), "x.csv"), std::runtime_error);
}

// A full disk in the middle of a row: the row is taken back, the file keeps whole rows,
// and the writer says so with an OutputError. Run in a child process: it lowers its own
// file size limit.
TEST(ResultFormat, FullDiskKeepsWholeRows) {
  const fs::path dir = temp_dir("full-disk");
  const ResultSet set = fixed_results();
  const std::size_t header = csv_header_line().size();
  const std::size_t row = csv_row(set.runs[0]).size();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    const rlim_t limit = header + row + row / 2;
    const rlimit lim{limit, limit};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int status = 3;
    try {
      ResultFiles files(dir.string(), {OutputFormat::kCsv}, set.context);
      for (int i = 0; i < 4; ++i) files.add(set.runs[0]);
    } catch (const OutputError &e) {
      status = std::string(e.what()).find("results.csv") != std::string::npos ? 0 : 4;
    } catch (...) {
      status = 5;
    }
    std::_Exit(status);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: no error reported; 4: the error names no file";
  const std::string csv = read_file(dir / "results.csv");
  EXPECT_EQ(csv.size(), header + row) << csv;
  EXPECT_NO_THROW(parse_results_csv(csv, "results.csv"));
}

// A JSON file that cannot be replaced (a directory is in its place): the error says so and
// no temporary file is left behind.
TEST(ResultFormat, FailedRenameLeavesNoTemporary) {
  const fs::path dir = temp_dir("rename");
  fs::create_directories(dir / "results.json" / "inside");
  const ResultSet set = fixed_results();
  EXPECT_THROW(ResultFiles(dir.string(), {OutputFormat::kJson}, set.context), OutputError);
  EXPECT_FALSE(fs::exists(dir / "results.json.tmp"));
}

}  // namespace
}  // namespace allocbench
