#include "micro_results.h"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace allocbench {
namespace {

double number(const Json &row, const char *key, const std::string &where) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number())
    throw std::runtime_error(fmt::format("{}: \"{}\" is missing or not a number", where, key));
  return it->get<double>();
}

double seconds_per_unit(const std::string &unit) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  throw std::runtime_error(fmt::format("unknown time_unit '{}'", unit));
}

}  // namespace

std::string micro_bench_name(const std::string &gbench_name) {
  constexpr std::string_view kSuffix = "/real_time";
  if (gbench_name.size() > kSuffix.size() &&
      gbench_name.compare(gbench_name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return gbench_name.substr(0, gbench_name.size() - kSuffix.size());
  return gbench_name;
}

BenchmarkId micro_benchmark_id(const std::string &bench, unsigned threads) {
  BenchmarkId id;
  id.workload = kMicroWorkload;
  id.params = {{"bench", bench}};
  id.threads = threads;
  return id;
}

MicroOutput parse_micro_output(const Json &doc, const std::string &allocator) {
  if (!doc.is_object() || !doc.contains("context") || !doc.contains("benchmarks") ||
      !doc["benchmarks"].is_array())
    throw std::runtime_error("not Google Benchmark JSON (no context and benchmarks)");
  const Json &context = doc["context"];
  auto from = context.find("allocbench_malloc_from");
  auto version = context.find("allocbench_allocator_version");
  if (from == context.end() || !from->is_string() || version == context.end() ||
      !version->is_string())
    throw std::runtime_error("no allocator proof in the context (not allocbench-micro output)");

  MicroOutput out;
  out.proof.malloc_from = from->get<std::string>();
  out.proof.version = version->get<std::string>();
  for (const Json &row : doc["benchmarks"]) {
    if (row.value("run_type", "iteration") != "iteration") continue;
    const std::string name = row.value("name", "");
    const std::string where = fmt::format("benchmark '{}'", name);
    if (name.empty()) throw std::runtime_error("a benchmark row without a name");
    RunRecord run;
    run.id = micro_benchmark_id(micro_bench_name(name),
                                static_cast<unsigned>(number(row, "threads", where)));
    run.allocator = allocator;
    run.repetition = static_cast<unsigned>(row.value("repetition_index", 0));
    run.proof = out.proof;
    if (row.value("error_occurred", false)) {
      run.ok = false;
      run.error = fmt::format("benchmark error: {}", row.value("error_message", "unknown"));
      out.runs.push_back(std::move(run));
      continue;
    }
    const double iterations = number(row, "iterations", where);
    const double real_time = number(row, "real_time", where);
    const double wall = iterations * real_time * seconds_per_unit(row.value("time_unit", "ns"));
    run.metrics.allocs = static_cast<std::uint64_t>(std::llround(number(row, "allocs", where)));
    run.metrics.frees = static_cast<std::uint64_t>(std::llround(number(row, "frees", where)));
    run.metrics.wall_s = wall;
    derive_metrics(run.metrics);  // ops = allocs + frees, ops_per_s = ops / wall_s
    run.ok = wall > 0.0 && run.metrics.ops_per_s.has_value();
    if (!run.ok) run.error = "benchmark reported no time";
    out.runs.push_back(std::move(run));
  }
  return out;
}

}  // namespace allocbench
