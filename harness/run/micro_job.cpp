#include "micro_job.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "callgrind.h"
#include "process.h"

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

MicroName split_micro_name(const std::string &gbench_name) {
  MicroName out;
  std::string rest = gbench_name;
  constexpr std::string_view kThreads = "/threads:";
  if (const auto at = rest.rfind(kThreads); at != std::string::npos) {
    const std::string count = rest.substr(at + kThreads.size());
    if (!count.empty() && count.size() <= 6 &&
        count.find_first_not_of("0123456789") == std::string::npos && std::stoul(count) > 0) {
      out.threads = static_cast<unsigned>(std::stoul(count));
      rest.erase(at);
    }
  }
  constexpr std::string_view kRealTime = "/real_time";
  if (rest.size() > kRealTime.size() &&
      rest.compare(rest.size() - kRealTime.size(), kRealTime.size(), kRealTime) == 0)
    rest.erase(rest.size() - kRealTime.size());
  // A fixed iteration count (counted mode) is how it ran, not which benchmark it is.
  constexpr std::string_view kIterations = "/iterations:";
  if (const auto at = rest.rfind(kIterations);
      at != std::string::npos &&
      rest.find_first_not_of("0123456789", at + kIterations.size()) == std::string::npos)
    rest.erase(at);
  out.bench = rest;
  return out;
}

std::string with_fixed_iterations(const std::string &listed, unsigned iterations) {
  const std::string part = fmt::format("/iterations:{}", iterations);
  std::string name = listed;
  // Google Benchmark names a run: arguments, iterations, real_time, threads.
  for (const char *after : {"/real_time", "/threads:"}) {
    if (const auto at = name.find(after); at != std::string::npos) return name.insert(at, part);
  }
  return name + part;
}

BenchmarkId micro_benchmark_id(const std::string &bench, unsigned threads) {
  BenchmarkId id;
  id.workload = kMicroWorkload;
  id.params = {{"bench", bench}};
  id.threads = threads;
  return id;
}

BenchmarkId micro_benchmark_id(const MicroName &name) {
  return micro_benchmark_id(name.bench, name.threads);
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
    run.id = micro_benchmark_id(split_micro_name(name));
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

namespace {

std::string regex_escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (std::strchr(".[]{}()*+?^$|\\", c)) out += '\\';
    out += c;
  }
  return out;
}

// Runs `exe args...` with LD_PRELOAD set to `preload` alone (under `callgrind` when
// given): stdout comes back whole, stderr's last 64 KiB.
ProcessOutcome run_micro_process(const std::string &exe, std::vector<std::string> args,
                                 const std::string &preload, double timeout_s,
                                 const CallgrindRun *callgrind = nullptr) {
  ProcessRequest request;
  request.exe = exe;
  request.args = std::move(args);
  request.preload = preload;
  request.outputs = {{{1}, 0}, {{2}, 64 * 1024}};
  request.timeout_s = timeout_s;
  if (callgrind) callgrind->wrap(request);
  return run_process(request);
}

}  // namespace

std::string micro_executable() {
  if (const char *env = std::getenv("ALLOCBENCH_MICRO"); env && *env) return env;
  return self_directory() + "/allocbench-micro";
}

std::vector<std::string> list_micro_benchmarks(const std::string &exe, const std::string &filter) {
  std::vector<std::string> args = {"--benchmark_list_tests=true"};
  if (!filter.empty()) args.push_back("--benchmark_filter=" + filter);
  const ProcessOutcome s = run_micro_process(exe, args, "", 60);
  if (!s.started()) throw std::invalid_argument(s.start_error);
  if (s.interrupted) throw std::runtime_error("interrupted");
  if (s.timed_out || !WIFEXITED(s.wait_status) || WEXITSTATUS(s.wait_status) != 0)
    throw std::invalid_argument(
        fmt::format("{} could not list its benchmarks: {}", exe, last_line(s.outputs[1])));
  std::vector<std::string> names;
  std::stringstream list(s.outputs[0]);
  for (std::string line; std::getline(list, line);)
    if (!line.empty()) names.push_back(line);
  if (names.empty())
    throw std::invalid_argument(fmt::format("--filter '{}' matches no microbenchmark", filter));
  return names;
}

namespace {

// One run of the benchmark (`iterations` > 0: exactly that many iterations, under
// `callgrind`): its record, or a failed one saying why.
RunRecord run_micro_once(const MicroJob &job, const AllocatorSpec &allocator, double timeout_s,
                         unsigned iterations, const CallgrindRun *callgrind, bool &interrupted) {
  std::vector<std::string> args = {
      "--allocbench_library=" + allocator.library,
      "--allocbench_kind=" + allocator.kind,
      "--benchmark_filter=^" +
          regex_escape(iterations ? with_fixed_iterations(job.benchmark, iterations)
                                  : job.benchmark) +
          "$",
      "--benchmark_repetitions=1",
      "--benchmark_format=json",
  };
  if (iterations)
    args.push_back(fmt::format("--allocbench_iterations={}", iterations));
  else
    args.push_back(fmt::format("--benchmark_min_time={}", job.min_time_s));
  const ProcessOutcome s =
      run_micro_process(job.exe, std::move(args), allocator.library, timeout_s, callgrind);
  interrupted = s.interrupted;
  RunRecord run;
  std::string error = s.started() ? s.failure(timeout_s) : s.start_error;  // timeout, crash
  if (!error.empty() || interrupted) {
    // as it says
  } else if (WEXITSTATUS(s.wait_status) == 3) {
    // allocbench-micro's status for a failed proof: "allocator mismatch: ..."
    const std::string line = last_line(s.outputs[1]);
    const auto at = line.find("allocator mismatch");
    error = at == std::string::npos ? "allocator mismatch: " + line : line.substr(at);
  } else if (WEXITSTATUS(s.wait_status) != 0) {
    error = fmt::format("exit status {}: {}", WEXITSTATUS(s.wait_status), last_line(s.outputs[1]));
  } else {
    try {
      MicroOutput parsed = parse_micro_output(Json::parse(s.outputs[0]), allocator.name);
      if (parsed.runs.size() != 1)
        throw std::runtime_error(fmt::format("{} rows, expected 1", parsed.runs.size()));
      run = std::move(parsed.runs.front());
    } catch (const std::exception &e) {
      error = fmt::format("unreadable benchmark output: {}", e.what());
    }
  }
  if (!error.empty()) {
    run = RunRecord{};
    run.id = micro_benchmark_id(split_micro_name(job.benchmark));
    run.allocator = allocator.name;
    run.ok = false;
    run.error = error;
  }
  return run;
}

}  // namespace

RunRecord run_micro_job(const MicroJob &job, const AllocatorSpec &allocator, double timeout_s,
                        bool &interrupted) {
  if (job.counted_iterations == 0)
    return run_micro_once(job, allocator, timeout_s, 0, nullptr, interrupted);
  // Counted: N and 2N iterations; what differs is N iterations' worth of the loop alone.
  // N grows until those iterations span kCountedOps operations, so that the little a run
  // counts differently from another (a clock read, the proof) is lost in the figures.
  constexpr double kCountedOps = 16384;
  RunRecord runs[2];
  std::map<std::string, double> totals[2];
  unsigned iterations = job.counted_iterations;
  for (int i = 0; i < 2; ++i) {
    CallgrindRun callgrind(true);
    if (!callgrind.error().empty()) {
      RunRecord failed;
      failed.id = micro_benchmark_id(split_micro_name(job.benchmark));
      failed.allocator = allocator.name;
      failed.error = callgrind.error();
      return failed;
    }
    runs[i] =
        run_micro_once(job, allocator, timeout_s, iterations * (i + 1), &callgrind, interrupted);
    if (interrupted || !runs[i].ok) return runs[i];
    try {
      totals[i] = callgrind.totals();
    } catch (const std::exception &e) {
      runs[i].ok = false;
      runs[i].error = fmt::format("counted mode: {}", e.what());
      return runs[i];
    }
    const double ops = static_cast<double>(runs[i].metrics.ops.value_or(0));
    if (i == 0 && ops > 0 && ops < kCountedOps) {
      iterations = static_cast<unsigned>(std::ceil(kCountedOps / (ops / iterations)));
      i = -1;  // again, at the larger N
    }
  }
  RunRecord run = std::move(runs[1]);
  const double ops = static_cast<double>(run.metrics.ops.value_or(0)) -
                     static_cast<double>(runs[0].metrics.ops.value_or(0));
  if (!(ops > 0)) {
    run.ok = false;
    run.error = "counted mode: twice the iterations did no more operations";
    return run;
  }
  std::map<std::string, double> difference;
  for (const auto &[event, count] : totals[1]) {
    const auto it = totals[0].find(event);
    difference[event] = count - (it == totals[0].end() ? 0.0 : it->second);
  }
  for (const auto &[name, value] : counted_figures(difference, ops)) run.extra[name] = value;
  return run;
}

}  // namespace allocbench
