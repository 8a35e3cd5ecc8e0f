#include "metrics.h"

#include <algorithm>

namespace allocbench {

namespace {

constexpr bool kColumn = true, kLatency = false, kExtra = false;
constexpr bool kCounted = true;
constexpr int kNotSummarised = 0;
constexpr bool kComparable = true, kNotComparable = false;

std::vector<std::string> names_where(bool MetricDef::*flag) {
  std::vector<std::string> names;
  for (const MetricDef &m : metric_catalogue())
    if (m.*flag) names.emplace_back(m.name);
  return names;
}

}  // namespace

const std::vector<MetricDef> &metric_catalogue() {
  static const std::vector<MetricDef> metrics = {
      {"ops", "ops", Better::kNeither, kColumn, kNotSummarised, kNotComparable,
       "operations: allocating calls + frees"},
      {"allocs", "calls", Better::kNeither, kColumn, kNotSummarised, kNotComparable,
       "allocating calls"},
      {"frees", "calls", Better::kNeither, kColumn, kNotSummarised, kNotComparable, "frees"},
      {"wall_s", "s", Better::kLower, kColumn, 4, kComparable, "wall time of the measured phase"},
      {"ops_per_s", "ops/s", Better::kHigher, kColumn, 1, kComparable,
       "throughput: allocating calls + frees per second"},
      {"user_s", "s", Better::kLower, kColumn, kNotSummarised, kNotComparable,
       "user CPU time of the process"},
      {"sys_s", "s", Better::kLower, kColumn, kNotSummarised, kNotComparable,
       "system CPU time of the process"},
      {"peak_rss_kib", "KiB", Better::kLower, kColumn, 2, kComparable,
       "peak resident set size of the child"},
      {"minor_faults", "faults", Better::kLower, kColumn, kNotSummarised, kNotComparable,
       "minor page faults"},
      {"major_faults", "faults", Better::kLower, kColumn, kNotSummarised, kNotComparable,
       "major page faults"},
      {"vol_ctx_switches", "switches", Better::kNeither, kColumn, kNotSummarised, kNotComparable,
       "voluntary context switches"},
      {"invol_ctx_switches", "switches", Better::kNeither, kColumn, kNotSummarised, kNotComparable,
       "involuntary context switches"},
      {"peak_live_bytes", "B", Better::kNeither, kColumn, kNotSummarised, kNotComparable,
       "the workload's own peak of live requested bytes"},
      {"mem_efficiency", "ratio", Better::kLower, kColumn, 3, kComparable,
       "peak RSS over peak live requested bytes"},
      {"lat_p50_ns", "ns", Better::kLower, kLatency, kNotSummarised, kComparable,
       "median per-call latency (latency mode)"},
      {"lat_p99_ns", "ns", Better::kLower, kLatency, kNotSummarised, kComparable,
       "99th percentile per-call latency (latency mode)"},
      {"lat_p999_ns", "ns", Better::kLower, kLatency, kNotSummarised, kComparable,
       "99.9th percentile per-call latency (latency mode)"},
      {"lat_max_ns", "ns", Better::kLower, kLatency, kNotSummarised, kNotComparable,
       "slowest sampled call (latency mode)"},
      {"cg_instructions_per_op", "instructions/op", Better::kLower, kExtra, kNotSummarised,
       kComparable, "instructions per operation in the measured phase (callgrind; counted mode)",
       kCounted},
      {"cg_data_reads_per_op", "reads/op", Better::kLower, kExtra, kNotSummarised, kComparable,
       "data reads per operation (callgrind; counted mode)", kCounted},
      {"cg_data_writes_per_op", "writes/op", Better::kLower, kExtra, kNotSummarised, kComparable,
       "data writes per operation (callgrind; counted mode)", kCounted},
      {"cg_l1_misses_per_op", "misses/op", Better::kLower, kExtra, kNotSummarised, kComparable,
       "first-level cache misses per operation (callgrind's cache model; counted mode)", kCounted},
      {"cg_ll_misses_per_op", "misses/op", Better::kLower, kExtra, kNotSummarised, kComparable,
       "last-level cache misses per operation (callgrind's cache model; counted mode)", kCounted},
      {"hw_instructions_per_op", "instructions/op", Better::kLower, kExtra, kNotSummarised,
       kComparable,
       "instructions per operation in the measured phase, user space (hardware counter; "
       "timed runs, where the host exposes it)"},
      {"hw_cycles_per_op", "cycles/op", Better::kLower, kExtra, kNotSummarised, kComparable,
       "CPU cycles per operation in the measured phase, user space (hardware counter; timed "
       "runs, where the host exposes it)"},
  };
  return metrics;
}

const MetricDef *find_metric_def(std::string_view name) {
  for (const MetricDef &m : metric_catalogue())
    if (m.name == name) return &m;
  return nullptr;
}

const std::vector<std::string> &run_metric_names() {
  static const std::vector<std::string> names = names_where(&MetricDef::run_column);
  return names;
}

const std::vector<std::string> &latency_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> latency;
    for (const MetricDef &m : metric_catalogue())
      if (!m.run_column && m.name.rfind("lat_", 0) == 0) latency.emplace_back(m.name);
    return latency;
  }();
  return names;
}

const std::vector<std::string> &summarised_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<const MetricDef *> summarised;
    for (const MetricDef &m : metric_catalogue())
      if (m.summary_rank > 0) summarised.push_back(&m);
    std::sort(summarised.begin(), summarised.end(), [](const MetricDef *a, const MetricDef *b) {
      return a->summary_rank < b->summary_rank;
    });
    std::vector<std::string> out;
    for (const MetricDef *m : summarised) out.emplace_back(m->name);
    return out;
  }();
  return names;
}

std::string_view primary_metric(std::string_view workload) {
  return workload == "program" ? "wall_s" : "ops_per_s";
}

std::string comparable_metric_names() {
  std::string out;
  for (const std::string &name : names_where(&MetricDef::comparable)) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace allocbench
