// The records of a run of the suite: what harness/RESULTS.md defines, as C++ structs,
// with their JSON form. Writers (result_writer.h) and the reader (result_reader.h) use
// these; nothing else in the harness spells a result key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace allocbench {

// 2: context.allocators entries carry the chart's colour and marker. Version 1 files
// (without them) are still read.
// 3: every workload's parameters end with `touch` (how much of each object was written).
// A version 1 or 2 workload benchmark without it is read with the level it ran at then
// (RESULTS.md), so that compare matches it with the same benchmark today.
inline constexpr int kSchemaVersion = 3;
inline constexpr int kOldestSchemaVersion = 1;

using Json = nlohmann::ordered_json;

// One (workload, parameters, size distribution, threads) combination, without the
// allocator, which is a field of its own.
struct BenchmarkId {
  std::string workload;
  std::vector<std::pair<std::string, std::string>> params;  // declared order, defaults included
  std::string size;
  unsigned threads = 1;

  // "group-free/size=16..512,group=4096,zeroed=0/threads=4"
  std::string key() const;
  // "group=4096;zeroed=0" (the CSV's params column)
  std::string params_text() const;
};

// The measurements of one repetition. Absent optionals were not measured.
struct RunMetrics {
  std::optional<std::uint64_t> ops, allocs, frees;
  std::optional<double> wall_s, ops_per_s, user_s, sys_s;
  std::optional<std::uint64_t> peak_rss_kib, minor_faults, major_faults, vol_ctx_switches,
      invol_ctx_switches, peak_live_bytes;
  std::optional<double> mem_efficiency;
};

struct LatencySummary {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  std::uint64_t samples = 0;
  double sampling_overhead_ns = 0;
};

struct RssTimeline {
  unsigned interval_ms = 10;
  std::vector<double> t_ms;
  std::vector<std::uint64_t> rss_kib;
};

// Which library served malloc in the child, and the version it reported.
struct AllocatorProof {
  std::string malloc_from;
  std::string version;
};

// One repetition of one benchmark with one allocator: a row of the CSV, an entry of
// the JSON's "runs".
struct RunRecord {
  BenchmarkId id;
  std::string allocator;
  unsigned repetition = 0;
  bool ok = false;
  std::string error;  // empty when ok
  RunMetrics metrics;
  std::optional<LatencySummary> latency_ns;
  std::optional<RssTimeline> rss_timeline;
  std::map<std::string, double> extra;
  std::optional<AllocatorProof> proof;
};

// Statistics of one metric over the ok repetitions.
struct MetricStats {
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0, cv = 0, ci95_low = 0, ci95_high = 0;
};

// The metrics summarised per benchmark, in this order.
// The metrics a summary carries: metrics.h (summarised_metric_names).

struct Summary {
  BenchmarkId id;
  std::string allocator;
  unsigned n = 0;       // ok repetitions
  unsigned failed = 0;  // failed repetitions
  // metric name -> stats; a metric with no ok value is absent.
  std::vector<std::pair<std::string, MetricStats>> stats;

  const MetricStats *find(const std::string &metric) const;
};

// What an allocator was in this run of the suite.
struct AllocatorInfo {
  std::string name;
  std::optional<std::string> library;
  std::optional<std::string> version;
  bool available = false;
  std::string reason;  // why it is not available
  // How the charts draw it (a built-in allocator's catalogue entry); absent for a user's.
  std::optional<std::string> colour, marker;
};

struct Context {
  std::string date;  // ISO 8601, UTC
  std::string host;
  std::string cpu_model;
  unsigned cpu_count = 0;
  std::string kernel;
  std::string compiler;
  std::string build_type;
  std::string git_revision;
  std::string allocbench_version;
  std::string command_line;
  // What the host's hardware counters gave the runs (perf_counters.h); absent in files
  // written before they were read.
  std::optional<std::string> hardware_counters;
  std::vector<AllocatorInfo> allocators;
};

// A whole result file.
struct ResultSet {
  int schema_version = kSchemaVersion;
  Context context;
  std::vector<RunRecord> runs;
  std::vector<Summary> summaries;
};

// Every RunMetrics field by its RESULTS.md name, in the order of the CSV columns:
// metrics.h (run_metric_names).

// The value of a metric by its RESULTS.md name (ops_per_s, peak_rss_kib, ...), if measured.
std::optional<double> metric_value(const RunMetrics &metrics, const std::string &name);

// Fills the derived metrics: ops = allocs + frees, ops_per_s = ops / wall_s,
// mem_efficiency = peak_rss_kib * 1024 / peak_live_bytes.
void derive_metrics(RunMetrics &metrics);

// Summaries of `runs`, one per (benchmark, allocator), in order of first appearance.
std::vector<Summary> summarize(const std::vector<RunRecord> &runs);

// JSON form, exactly as RESULTS.md shows it.
Json to_json(const RunRecord &run);
Json to_json(const Summary &summary);
Json to_json(const Context &context);
Json to_json(const ResultSet &results);

// Reading back (throws std::runtime_error naming the bad key).
RunRecord run_from_json(const Json &json);
Summary summary_from_json(const Json &json);
Context context_from_json(const Json &json);
ResultSet result_set_from_json(const Json &json);

}  // namespace allocbench
