#include "result_samples.h"

#include "result_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>

namespace allocbench {

const MetricDef *find_metric(std::string_view name) {
  const MetricDef *m = find_metric_def(name);
  return m && m->comparable ? m : nullptr;
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

ResultFile load_result_file(const std::string &given_path) {
  std::string path = given_path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    path = (std::filesystem::path(path) / "results.json").string();
  ResultSet results;
  try {
    results = read_results_json(path);
  } catch (const std::exception &e) {
    throw ResultFileError(e.what());
  }

  ResultFile file;
  file.path = path;
  file.context = std::move(results.context);
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const RunRecord &run : results.runs) {
    const std::string key = run.id.key();
    auto [slot, inserted] = index.try_emplace({key, run.allocator}, file.sets.size());
    if (inserted) {
      SampleSet set;
      set.benchmark = key;
      set.workload = run.id.workload;
      set.allocator = run.allocator;
      set.threads = run.id.threads;
      file.sets.push_back(std::move(set));
    }
    SampleSet &set = file.sets[slot->second];
    if (set.allocator_version.empty() && run.proof) set.allocator_version = run.proof->version;
    if (!run.ok) {
      ++set.failed;
      if (set.first_error.empty()) set.first_error = run.error;
      continue;
    }
    std::map<std::string, double> values;
    for (const std::string &metric : run_metric_names())
      if (const std::optional<double> v = metric_value(run.metrics, metric); v && std::isfinite(*v))
        values[metric] = *v;
    if (run.latency_ns) {
      values["lat_p50_ns"] = run.latency_ns->p50;
      values["lat_p99_ns"] = run.latency_ns->p99;
      values["lat_p999_ns"] = run.latency_ns->p999;
      values["lat_max_ns"] = run.latency_ns->max;
    }
    // The workload's own figures and the counted ones (cg_*), by their names.
    for (const auto &[name, value] : run.extra)
      if (std::isfinite(value)) values.emplace(name, value);
    set.ok_runs.push_back(std::move(values));
  }
  return file;
}

}  // namespace allocbench
