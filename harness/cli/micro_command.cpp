// `allocbench micro`: the microbenchmarks of allocbench-micro as jobs of the suite loop
// (run/suite.h): every repetition of every microbenchmark and allocator in a fresh process
// with only that allocator preloaded and proven, as workload runs are, merged into
// DIR/results.json and DIR/results.csv as workload `micro`.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "allocator_selection.h"
#include "callgrind.h"
#include "console.h"
#include "context.h"
#include "micro_job.h"
#include "output_dir.h"
#include "process.h"
#include "regression_commands.h"
#include "result_reader.h"
#include "result_writer.h"
#include "run_options.h"
#include "suite.h"

namespace allocbench {
namespace {

struct MicroArgs {
  std::string allocators;
  std::string out;
  std::string filter;
  unsigned repetitions = 5;
  double min_time = 0.05;
  double timeout_s = 120.0;
  std::string cpus;
  std::string measure = "time";  // or instructions: counted mode
  unsigned iterations = 16;      // counted mode: N, then 2N
  bool replace = false;
};

int run_micro(const MicroArgs &args) {
  if (args.repetitions == 0) throw UsageError("--repetitions must be at least 1");
  if (!(args.min_time > 0.0)) throw UsageError("--min-time must be a positive number of seconds");
  if (!(args.timeout_s > 0.0)) throw UsageError("--timeout must be a positive number of seconds");
  if (args.measure != "time" && args.measure != "instructions")
    throw UsageError(fmt::format("--measure: '{}' is not accepted (accepted: time, instructions)",
                                 args.measure));
  const bool counted = args.measure == "instructions";
  if (counted && args.iterations == 0) throw UsageError("--iterations must be at least 1");
  if (counted && !valgrind_executable())
    throw UsageError("--measure=instructions needs valgrind (apt-get install valgrind)");
  const std::string exe = micro_executable();
  if (::access(exe.c_str(), X_OK) != 0)
    throw UsageError(
        fmt::format("{} not found (build the allocbench-micro target, or set "
                    "ALLOCBENCH_MICRO)",
                    exe));
  install_interrupt_handlers();
  AllocatorSelection selection;
  std::vector<std::string> names;
  try {
    if (!args.cpus.empty()) run_on_cpus(parse_cpu_list(args.cpus));
    selection = select_allocators(args.allocators, "");
    names = list_micro_benchmarks(exe, args.filter);
  } catch (const std::invalid_argument &e) {
    throw UsageError(e.what());
  } catch (const std::runtime_error &) {
    return kExitInterrupted;
  }
  for (const std::string &line : selection.skipped)
    fmt::print(stderr, "allocbench micro: skipping {}\n", line);
  if (selection.specs.empty()) throw UsageError("--allocator: no allocator to run");

  SuitePlan plan;
  plan.allocators = selection.specs;
  plan.repetitions = args.repetitions;
  plan.timeout_s = args.timeout_s;
  for (const std::string &name : names)
    plan.jobs.push_back(
        SuiteJob{MicroJob{exe, name, args.min_time, counted ? args.iterations : 0u}});

  const std::string out = args.out.empty() ? default_output_directory("micro-") : args.out;
  make_output_directory(out);
  const std::string json_path = ResultFiles::json_path(out), csv_path = ResultFiles::csv_path(out);

  // Merge into what the directory holds; replacing earlier micro runs needs --replace.
  ResultSet results;
  const bool existing = std::filesystem::exists(json_path);
  std::vector<OutputFormat> formats = {OutputFormat::kJson};
  if (!existing || std::filesystem::exists(csv_path)) formats.push_back(OutputFormat::kCsv);
  if (existing) {
    try {
      results = read_results_json(json_path);
    } catch (const std::exception &e) {
      throw UsageError(fmt::format("--out: cannot merge into {}", e.what()));
    }
    std::set<std::pair<std::string, std::string>> planned;
    for (const AllocatorSpec &spec : plan.allocators)
      for (const SuiteJob &job : plan.jobs) planned.emplace(job.id().key(), spec.name);
    const auto clash = [&](const RunRecord &r) {
      return planned.count({r.id.key(), r.allocator}) > 0;
    };
    const auto n = std::count_if(results.runs.begin(), results.runs.end(), clash);
    if (n > 0 && !args.replace)
      throw UsageError(
          fmt::format("{} already holds {} run(s) of these microbenchmarks; "
                      "--replace replaces them",
                      json_path, n));
    results.runs.erase(std::remove_if(results.runs.begin(), results.runs.end(), clash),
                       results.runs.end());
  } else {
    results.context = collect_context(command_line(), selection.infos);
  }

  Console console(stdout, stderr);
  ResultFiles files(out, formats, std::move(results));
  console.note(fmt::format(
      "allocbench micro: {} runs ({} microbenchmarks x {} repetitions x {} "
      "allocators) -> {}",
      plan.total_runs(), plan.jobs.size(), plan.repetitions, plan.allocators.size(), out));
  const SuiteOutcome outcome = run_suite(plan, files, console);
  if (outcome.interrupted) return kExitInterrupted;
  return outcome.failed > 0 ? kExitFailedRuns : kExitOk;
}

}  // namespace

void register_micro_command(CLI::App &app, CommandAction &action) {
  CLI::App *cmd = app.add_subcommand(
      "micro",
      "Run the Google Benchmark microbenchmarks of single calls (malloc/free per size class, "
      "a batch of 256, calloc, realloc growth, aligned_alloc) and of the group-free pattern "
      "(4096 objects of 16..512 B per thread, written, touched or zeroed, and its halves timed "
      "apart): every repetition of every "
      "microbenchmark in a fresh allocbench-micro process with only that allocator preloaded "
      "and proven, the allocators side by side within a repetition, and merge the repetitions into "
      "DIR/results.json and results.csv as "
      "workload 'micro' (benchmark micro/bench=<name>/threads=1), comparable with "
      "`allocbench compare`.");
  cmd->footer(
      "Examples:\n"
      "  allocbench micro --out=out                 # every installed allocator\n"
      "  allocbench micro --allocator=glibc,fio --filter=BM_malloc_free --out=out\n"
      "  allocbench micro --measure=instructions --filter='BM_malloc_free/64$' --out=out\n"
      "  allocbench --workload=group-free --out=out && allocbench micro --out=out");
  auto args = std::make_shared<MicroArgs>();
  cmd->add_option("--allocator", args->allocators,
                  "allocators to run, comma-separated: built-in names or NAME=/path/to/lib.so "
                  "(default: every installed built-in)");
  cmd->add_option("--out", args->out,
                  "result directory; runs are added to its results.json and results.csv "
                  "(default: a new allocbench-results/micro-<time>)");
  cmd->add_option("--filter", args->filter,
                  "only the microbenchmarks whose name matches this regular expression");
  cmd->add_option("--repetitions", args->repetitions, "repetitions per microbenchmark")
      ->capture_default_str();
  cmd->add_option("--min-time", args->min_time,
                  "minimum measuring time of one repetition, seconds (Google Benchmark's "
                  "--benchmark_min_time)")
      ->capture_default_str();
  cmd->add_option("--measure", args->measure,
                  "time, or instructions: each microbenchmark runs under valgrind's callgrind "
                  "at N and 2N iterations (--iterations), and the difference of the counts "
                  "gives instructions, data reads and writes and cache misses per operation "
                  "(cg_* figures, exact from run to run; the times are valgrind's)")
      ->capture_default_str();
  cmd->add_option("--iterations", args->iterations,
                  "counted mode: N, the iterations of the first of the two runs")
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout_s,
                  "seconds before one microbenchmark's process is killed")
      ->capture_default_str();
  cmd->add_option("--cpus", args->cpus,
                  "run every microbenchmark on these CPUs only, as taskset takes them: 1, 0,2, "
                  "0-3 (a single-thread figure on a virtual machine can change with the CPU "
                  "its process lands on)");
  cmd->add_flag("--replace", args->replace,
                "replace runs of the same microbenchmarks and allocators already in DIR");
  cmd->callback([args, &action] { action = [args] { return run_micro(*args); }; });
}

}  // namespace allocbench
