#include "export.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include "statistics.h"

namespace allocbench {
namespace {

// A number for the "extra" and "range" strings: enough digits to be useful, no noise.
std::string short_number(double v) {
  return fmt::format("{:.6g}", v);
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "github-action-benchmark") return ExportFormat::kGithubActionBenchmark;
  if (name == "bencher") return ExportFormat::kBencher;
  if (name == "gbench") return ExportFormat::kGoogleBenchmark;
  return std::nullopt;
}

std::string export_benchmark_name(const SampleSet &set) {
  return set.benchmark + "/allocator=" + set.allocator;
}

std::string github_action_benchmark_tool(std::string_view metric) {
  const MetricDef *m = find_metric(metric);
  return m && m->better == Better::kHigher ? "customBiggerIsBetter" : "customSmallerIsBetter";
}

Json export_github_action_benchmark(const ResultFile &file, std::string_view metric) {
  const MetricDef *m = find_metric(metric);
  if (!m)
    throw std::invalid_argument(
        fmt::format("unknown metric '{}' (accepted: {})", metric, comparable_metric_names()));
  Json out = Json::array();
  for (const SampleSet &set : file.sets) {
    const std::vector<double> values = set.values(metric);
    if (values.empty()) continue;
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    std::string extra = fmt::format("{} repetitions, min {} max {} {}", values.size(),
                                    short_number(*lo), short_number(*hi), m->unit);
    if (set.failed > 0) extra += fmt::format(", {} failed", set.failed);
    if (!set.allocator_version.empty())
      extra += fmt::format("\n{} {}", set.allocator, set.allocator_version);
    Json entry = {
        {"name", export_benchmark_name(set)},
        {"unit", std::string(m->unit)},
        {"value", median(values)},
        {"extra", extra},
    };
    // The action shows `range` next to the value as text; it is the spread of the
    // repetitions, which one value alone would hide.
    if (values.size() > 1) entry["range"] = "± " + short_number(sample_stddev(values));
    out.push_back(std::move(entry));
  }
  return out;
}

Json export_bencher(const ResultFile &file) {
  // Measure slugs: "throughput" (ops/s) and "latency" (ns) are the measures every Bencher
  // project has; "peak-rss-kib" is created by Bencher on first use.
  struct Measure {
    const char *metric;
    const char *slug;
  };
  static constexpr Measure kMeasures[] = {
      {"ops_per_s", "throughput"},
      {"lat_p50_ns", "latency"},
      {"peak_rss_kib", "peak-rss-kib"},
  };
  Json out = Json::object();
  for (const SampleSet &set : file.sets) {
    Json measures = Json::object();
    const auto add = [&](const char *metric, const char *slug) {
      const std::vector<double> values = set.values(metric);
      if (values.empty()) return;
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      measures[slug] = {{"value", median(values)}, {"lower_value", *lo}, {"upper_value", *hi}};
    };
    for (const Measure &measure : kMeasures) add(measure.metric, measure.slug);
    // A program counts no operations: its figure is its wall time.
    if (set.workload == "program") add("wall_s", "wall-time-s");
    if (!measures.empty()) out[export_benchmark_name(set)] = std::move(measures);
  }
  return out;
}

Json export_google_benchmark(const ResultFile &file) {
  const Context &ctx = file.context;
  Json context = {
      {"date", ctx.date},
      {"host_name", ctx.host},
      {"executable", "allocbench"},
      {"num_cpus", ctx.cpu_count},
      {"library_build_type", ctx.build_type.rfind("Debug", 0) == 0 ? "debug" : "release"},
  };
  // Google Benchmark keeps user context as extra string keys; these say what ran.
  const std::pair<const char *, const std::string *> extra[] = {
      {"cpu_model", &ctx.cpu_model},       {"kernel", &ctx.kernel},
      {"compiler", &ctx.compiler},         {"build_type", &ctx.build_type},
      {"git_revision", &ctx.git_revision}, {"version", &ctx.allocbench_version},
      {"command_line", &ctx.command_line},
  };
  for (const auto &[key, value] : extra)
    if (!value->empty()) context[std::string("allocbench_") + key] = *value;

  Json benchmarks = Json::array();
  std::int64_t family = 0;
  for (const SampleSet &set : file.sets) {
    // One iteration = one operation (allocating call or free): real_time is wall time per
    // operation, cpu_time user + system CPU per operation, items_per_second the throughput.
    struct Row {
      double iterations, real_ns, cpu_ns, items_per_second;
    };
    std::vector<Row> rows;
    for (const auto &run : set.ok_runs) {
      auto get = [&](const char *k) {
        auto it = run.find(k);
        return it == run.end() ? std::nan("") : it->second;
      };
      const double ops = get("ops"), wall = get("wall_s"), rate = get("ops_per_s");
      if (!(ops > 0.0) || !(wall > 0.0)) continue;
      const double cpu = get("user_s") + get("sys_s");
      rows.push_back({ops, wall / ops * 1e9, std::isnan(cpu) ? wall / ops * 1e9 : cpu / ops * 1e9,
                      std::isnan(rate) ? ops / wall : rate});
    }
    if (rows.empty()) continue;
    const std::string name = export_benchmark_name(set);
    const auto n = static_cast<std::int64_t>(rows.size());
    for (std::int64_t r = 0; r < n; ++r) {
      const Row &row = rows[static_cast<std::size_t>(r)];
      benchmarks.push_back({
          {"name", name},
          {"family_index", family},
          {"per_family_instance_index", 0},
          {"run_name", name},
          {"run_type", "iteration"},
          {"repetitions", n},
          {"repetition_index", r},
          {"threads", set.threads},
          {"iterations", static_cast<std::int64_t>(std::llround(row.iterations))},
          {"real_time", row.real_ns},
          {"cpu_time", row.cpu_ns},
          {"time_unit", "ns"},
          {"items_per_second", row.items_per_second},
      });
    }
    if (n >= 2) {
      auto column = [&](double Row::*field) {
        std::vector<double> v;
        for (const Row &row : rows) v.push_back(row.*field);
        return v;
      };
      const auto real = column(&Row::real_ns), cpu = column(&Row::cpu_ns),
                 items = column(&Row::items_per_second);
      struct Aggregate {
        const char *name;
        const char *unit;
        double (*f)(const std::vector<double> &);
      };
      static constexpr Aggregate kAggregates[] = {
          {"mean", "time", [](const std::vector<double> &v) { return mean(v); }},
          {"median", "time", [](const std::vector<double> &v) { return median(v); }},
          {"stddev", "time", [](const std::vector<double> &v) { return sample_stddev(v); }},
          {"cv", "percentage",
           [](const std::vector<double> &v) {
             const double m = mean(v);
             return m != 0.0 ? sample_stddev(v) / m : 0.0;
           }},
      };
      for (const Aggregate &a : kAggregates)
        benchmarks.push_back({
            {"name", name + "_" + a.name},
            {"family_index", family},
            {"per_family_instance_index", 0},
            {"run_name", name},
            {"run_type", "aggregate"},
            {"repetitions", n},
            {"threads", set.threads},
            {"aggregate_name", a.name},
            {"aggregate_unit", a.unit},
            {"iterations", n},
            {"real_time", a.f(real)},
            {"cpu_time", a.f(cpu)},
            {"time_unit", "ns"},
            {"items_per_second", a.f(items)},
        });
    }
    ++family;
  }
  return {{"context", std::move(context)}, {"benchmarks", std::move(benchmarks)}};
}

std::vector<std::string> unexportable_sets(const ResultFile &file) {
  std::vector<std::string> out;
  for (const SampleSet &set : file.sets)
    if (set.ok_runs.empty()) out.push_back(set.benchmark + " [" + set.allocator + "]");
  return out;
}

}  // namespace allocbench
