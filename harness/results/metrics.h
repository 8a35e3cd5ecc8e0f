// The catalogue of metrics: every figure a run reports, once, with its unit, which way is
// better, whether a summary carries it and whether compare and export accept it. The CSV
// columns, the summaries, compare's direction and the exports all derive from this table
// (metrics.cpp); adding a metric is adding its entry and where the run measures it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace allocbench {

enum class Better { kHigher, kLower, kNeither };

struct MetricDef {
  std::string_view name;  // as in the CSV header and the JSON ("ops_per_s")
  std::string_view unit;  // "ops/s", "KiB", ...
  Better better;
  // A column of RunMetrics (one per run, in the CSV in this order); false for the latency
  // percentiles, which a run carries in its latency block, and the counted figures, in
  // its extra figures.
  bool run_column;
  // Its place among the statistics of a summary (median, mean, spread and interval of
  // the ok repetitions), from 1; 0 for a metric the summaries leave out.
  int summary_rank;
  bool comparable;  // compare and export accept it
  std::string_view description;
  // Counted (callgrind): the same code gives the same figure, so compare judges a change
  // against the bound alone, without a test of the noise.
  bool counted = false;
};

// Every metric, RunMetrics' columns first in CSV order.
const std::vector<MetricDef> &metric_catalogue();
// nullptr when the name is unknown.
const MetricDef *find_metric_def(std::string_view name);

// Views of the catalogue, in its order.
const std::vector<std::string> &run_metric_names();         // RunMetrics' columns
const std::vector<std::string> &latency_metric_names();     // the latency percentiles
const std::vector<std::string> &summarised_metric_names();  // what a summary carries
std::string comparable_metric_names();                      // "ops_per_s, wall_s, ..."

// The figure a benchmark of `workload` is judged by: its throughput, or for a program
// (which counts no operations) its wall time.
std::string_view primary_metric(std::string_view workload);

}  // namespace allocbench
