#include "result_samples.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

namespace allocbench {

const std::vector<MetricInfo> &comparable_metrics() {
  static const std::vector<MetricInfo> metrics = {
      {"ops_per_s", "ops/s", true, "throughput: allocating calls + frees per second"},
      {"wall_s", "s", false, "wall time of the measured phase"},
      {"peak_rss_kib", "KiB", false, "peak resident set size of the child"},
      {"mem_efficiency", "ratio", false, "peak RSS over peak live requested bytes"},
      {"lat_p50_ns", "ns", false, "median per-call latency (latency mode)"},
      {"lat_p99_ns", "ns", false, "99th percentile per-call latency (latency mode)"},
      {"lat_p999_ns", "ns", false, "99.9th percentile per-call latency (latency mode)"},
  };
  return metrics;
}

const MetricInfo *find_metric(std::string_view name) {
  for (const MetricInfo &m : comparable_metrics())
    if (m.name == name) return &m;
  return nullptr;
}

std::string metric_names() {
  std::string out;
  for (const MetricInfo &m : comparable_metrics()) {
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

std::vector<double> SampleSet::values(std::string_view metric) const {
  std::vector<double> out;
  for (const auto &run : ok_runs) {
    auto it = run.find(std::string(metric));
    if (it != run.end()) out.push_back(it->second);
  }
  return out;
}

const SampleSet *ResultFile::find(std::string_view benchmark, std::string_view allocator) const {
  for (const SampleSet &s : sets)
    if (s.benchmark == benchmark && s.allocator == allocator) return &s;
  return nullptr;
}

namespace {

std::string string_field(const nlohmann::json &object, const char *key, const std::string &where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string())
    throw ResultFileError(where + ": \"" + key + "\" is missing or not a string");
  return it->get<std::string>();
}

void add_number(std::map<std::string, double> &out, const std::string &name,
                const nlohmann::json &value, const std::string &where) {
  if (value.is_null()) return;  // not measured
  if (!value.is_number())
    throw ResultFileError(where + ": metric \"" + name + "\" is not a number");
  const double v = value.get<double>();
  if (!std::isfinite(v)) throw ResultFileError(where + ": metric \"" + name + "\" is not finite");
  out[name] = v;
}

}  // namespace

ResultFile load_result_file(const std::string &given_path) {
  std::string path = given_path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    path = (std::filesystem::path(path) / "results.json");

  std::ifstream in(path);
  if (!in) throw ResultFileError(path + ": cannot open for reading");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error &e) {
    throw ResultFileError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object()) throw ResultFileError(path + ": not an allocbench result file (no object)");
  auto version = doc.find("schema_version");
  if (version == doc.end() || !version->is_number_integer())
    throw ResultFileError(path + ": not an allocbench result file (no schema_version)");
  if (version->get<int>() != 1)
    throw ResultFileError(path + ": schema_version " + version->dump() +
                          " is not supported (accepted: 1)");
  auto runs = doc.find("runs");
  if (runs == doc.end() || !runs->is_array())
    throw ResultFileError(path + ": \"runs\" is missing or not an array");

  ResultFile file;
  file.path = path;
  if (auto ctx = doc.find("context"); ctx != doc.end() && ctx->is_object())
    file.context = *ctx;
  else
    file.context = nlohmann::json::object();

  std::map<std::pair<std::string, std::string>, std::size_t> index;
  std::size_t position = 0;
  for (const nlohmann::json &run : *runs) {
    const std::string where = path + ": runs[" + std::to_string(position++) + "]";
    if (!run.is_object()) throw ResultFileError(where + " is not an object");
    const std::string benchmark = string_field(run, "benchmark", where);
    const std::string allocator = string_field(run, "allocator", where);
    const std::string status = string_field(run, "status", where);

    auto [slot, inserted] = index.try_emplace({benchmark, allocator}, file.sets.size());
    if (inserted) {
      SampleSet set;
      set.benchmark = benchmark;
      set.allocator = allocator;
      if (auto w = run.find("workload"); w != run.end() && w->is_string()) set.workload = *w;
      if (auto t = run.find("threads"); t != run.end() && t->is_number_unsigned())
        set.threads = t->get<unsigned>();
      file.sets.push_back(std::move(set));
    }
    SampleSet &set = file.sets[slot->second];
    if (set.allocator_version.empty())
      if (auto proof = run.find("proof"); proof != run.end() && proof->is_object())
        if (auto v = proof->find("version"); v != proof->end() && v->is_string())
          set.allocator_version = *v;

    if (status != "ok") {
      ++set.failed;
      if (set.first_error.empty())
        if (auto e = run.find("error"); e != run.end() && e->is_string()) set.first_error = *e;
      continue;
    }
    std::map<std::string, double> values;
    if (auto metrics = run.find("metrics"); metrics != run.end() && metrics->is_object())
      for (const auto &[name, value] : metrics->items()) {
        if (value.is_number() || value.is_null()) add_number(values, name, value, where);
      }
    else
      throw ResultFileError(where + ": a run with status \"ok\" has no \"metrics\" object");
    if (auto lat = run.find("latency_ns"); lat != run.end() && lat->is_object())
      for (const char *p : {"p50", "p99", "p999", "max"})
        if (auto v = lat->find(p); v != lat->end())
          add_number(values, std::string("lat_") + p + "_ns", *v, where);
    set.ok_runs.push_back(std::move(values));
  }
  return file;
}

double median_of(std::vector<double> values) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

double mean_of(const std::vector<double> &values) {
  if (values.empty()) return std::nan("");
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double stddev_of(const std::vector<double> &values) {
  if (values.size() < 2) return 0.0;
  const double mean = mean_of(values);
  double sum = 0.0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

}  // namespace allocbench
