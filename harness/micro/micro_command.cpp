// `allocbench micro`: runs allocbench-micro once per repetition, microbenchmark and
// allocator, each in a fresh process with only that allocator preloaded (as workload runs
// are), and merges the repetitions into DIR/results.json and DIR/results.csv as workload
// `micro`.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "allocator_selection.h"
#include "context.h"
#include "micro/micro_results.h"
#include "output_dir.h"
#include "output_file.h"
#include "process.h"
#include "regression_commands.h"
#include "result_reader.h"
#include "result_writer.h"
#include "statistics.h"

namespace allocbench {
namespace {

struct MicroArgs {
  std::string allocators;
  std::string out;
  std::string filter;
  unsigned repetitions = 5;
  double min_time = 0.05;
  double timeout_s = 120.0;
  bool replace = false;
};

std::string read_file(const std::string &path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Runs `exe args...` through the run engine with LD_PRELOAD set to `preload` alone:
// stdout and stderr come back (stderr's last 64 KiB).
ProcessOutcome run_micro_process(const std::string &exe, std::vector<std::string> args,
                                 const std::string &preload, double timeout_s) {
  ProcessRequest request;
  request.exe = exe;
  request.args = std::move(args);
  request.preload = preload;
  request.outputs = {{{1}, 0}, {{2}, 64 * 1024}};
  request.timeout_s = timeout_s;
  ProcessOutcome done = run_process(request);
  if (!done.started()) throw std::runtime_error(done.start_error);
  return done;
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string regex_escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (std::strchr(".[]{}()*+?^$|\\", c)) out += '\\';
    out += c;
  }
  return out;
}

std::string micro_executable() {
  if (const char *env = std::getenv("ALLOCBENCH_MICRO"); env && *env) return env;
  return self_directory() + "/allocbench-micro";
}

// Rewrites results.csv whole (tmp + rename) from the runs: merged files keep one header.
void write_csv_file(const std::string &path, const std::vector<RunRecord> &runs) {
  std::string text = csv_header_line();
  for (const RunRecord &run : runs) text += csv_row(run);
  replace_file(path, text);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "allocbench-micro-XXXXXX");
    if (!::mkdtemp(pattern.data()))
      throw std::runtime_error(
          fmt::format("cannot create a temporary directory: {}", std::strerror(errno)));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  std::string file(const std::string &name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<std::string> list_benchmarks(const std::string &exe, const std::string &filter) {
  std::vector<std::string> args = {"--benchmark_list_tests=true"};
  if (!filter.empty()) args.push_back("--benchmark_filter=" + filter);
  const ProcessOutcome s = run_micro_process(exe, args, "", 60);
  if (s.interrupted) throw UsageError("interrupted");
  if (s.timed_out || !WIFEXITED(s.wait_status) || WEXITSTATUS(s.wait_status) != 0)
    throw UsageError(
        fmt::format("{} could not list its benchmarks: {}", exe, last_line(s.outputs[1])));
  std::vector<std::string> names;
  std::stringstream list(s.outputs[0]);
  for (std::string line; std::getline(list, line);)
    if (!line.empty()) names.push_back(line);
  if (names.empty())
    throw UsageError(fmt::format("--filter '{}' matches no microbenchmark", filter));
  return names;
}

int run_micro(const MicroArgs &args) {
  if (args.repetitions == 0) throw UsageError("--repetitions must be at least 1");
  if (!(args.min_time > 0.0)) throw UsageError("--min-time must be a positive number of seconds");
  if (!(args.timeout_s > 0.0)) throw UsageError("--timeout must be a positive number of seconds");
  const std::string exe = micro_executable();
  if (::access(exe.c_str(), X_OK) != 0)
    throw UsageError(
        fmt::format("{} not found (build the allocbench-micro target, or set "
                    "ALLOCBENCH_MICRO)",
                    exe));
  install_interrupt_handlers();
  AllocatorSelection selection;
  try {
    selection = select_allocators(args.allocators, "");
  } catch (const std::invalid_argument &e) {
    throw UsageError(e.what());
  }
  for (const std::string &line : selection.skipped)
    std::cerr << "allocbench micro: skipping " << line << '\n';
  const std::vector<AllocatorSpec> &specs = selection.specs;
  if (specs.empty()) throw UsageError("--allocator: no allocator to run");
  const std::string out = args.out.empty() ? default_output_directory("micro-") : args.out;
  make_output_directory(out);
  const std::string json_path = ResultFiles::json_path(out), csv_path = ResultFiles::csv_path(out);

  TempDir tmp;
  const std::vector<std::string> names = list_benchmarks(exe, args.filter);

  // Merge into what the directory holds; replacing earlier micro runs needs --replace.
  ResultSet results;
  const bool existing = std::filesystem::exists(json_path);
  const bool write_csv = !existing || std::filesystem::exists(csv_path);
  if (existing) {
    try {
      results = read_results_json(json_path);
    } catch (const std::exception &e) {
      throw UsageError(fmt::format("--out: cannot merge into {}", e.what()));
    }
    std::set<std::pair<std::string, std::string>> planned;
    for (const AllocatorSpec &spec : specs)
      for (const std::string &name : names)
        planned.emplace(micro_benchmark_id(micro_bench_name(name), 1).key(), spec.name);
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
  auto save = [&] {
    write_json_file(json_path, results);
    if (write_csv) write_csv_file(csv_path, results.runs);
  };
  auto note_allocator = [&](const AllocatorSpec &spec, const AllocatorProof &proof) {
    auto it = std::find_if(results.context.allocators.begin(), results.context.allocators.end(),
                           [&](const AllocatorInfo &info) { return info.name == spec.name; });
    if (it == results.context.allocators.end()) {
      // A merge into a file of another run of the suite: this allocator is new there.
      results.context.allocators.push_back(allocator_info(spec.name));
      it = std::prev(results.context.allocators.end());
    }
    it->version = proof.version;
    it->library = proof.malloc_from;
    it->available = true;
  };

  // Repetition by repetition, and within one the allocators side by side, as the runner
  // orders workload runs: each repetition is a fresh process, and a change of the machine's
  // load during the suite hits every allocator alike (what ratio mode relies on).
  const std::size_t total = args.repetitions * names.size() * specs.size();
  std::size_t done = 0, failed = 0;
  std::map<std::pair<std::string, std::string>, std::vector<double>> rates;  // (bench, alloc)
  for (unsigned rep = 0; rep < args.repetitions && !interrupt_requested(); ++rep) {
    for (const std::string &name : names) {
      for (const AllocatorSpec &spec : specs) {
        if (interrupt_requested()) break;
        ++done;
        const std::string bench = micro_bench_name(name);
        std::cerr << fmt::format("[{}/{}] {} {} #{} ", done, total, spec.name, bench, rep)
                  << std::flush;
        const std::vector<std::string> run_args = {
            "--allocbench_library=" + spec.library,
            "--allocbench_kind=" + spec.kind,
            "--benchmark_filter=^" + regex_escape(name) + "$",
            "--benchmark_repetitions=1",
            fmt::format("--benchmark_min_time={}", args.min_time),
            "--benchmark_out=" + tmp.file("out.json"),
            "--benchmark_out_format=json",
        };
        std::filesystem::remove(tmp.file("out.json"));
        const ProcessOutcome s = run_micro_process(exe, run_args, spec.library, args.timeout_s);
        if (s.interrupted) break;
        std::string error = s.failure(args.timeout_s);  // a timeout or a crash
        RunRecord run;
        if (!error.empty()) {
          // as it says
        } else if (WEXITSTATUS(s.wait_status) == 3) {
          // allocbench-micro's status for a failed proof: "allocator mismatch: ..."
          const std::string line = last_line(s.outputs[1]);
          const auto at = line.find("allocator mismatch");
          error = at == std::string::npos ? "allocator mismatch: " + line : line.substr(at);
        } else if (WEXITSTATUS(s.wait_status) != 0) {
          error = fmt::format("exit status {}: {}", WEXITSTATUS(s.wait_status),
                              last_line(s.outputs[1]));
        } else {
          try {
            MicroOutput parsed =
                parse_micro_output(Json::parse(read_file(tmp.file("out.json"))), spec.name);
            if (parsed.runs.size() != 1)
              throw std::runtime_error(fmt::format("{} rows, expected 1", parsed.runs.size()));
            note_allocator(spec, parsed.proof);
            run = std::move(parsed.runs.front());
          } catch (const std::exception &e) {
            error = fmt::format("unreadable benchmark output: {}", e.what());
          }
        }
        if (!error.empty()) {
          run = RunRecord{};
          run.id = micro_benchmark_id(bench, 1);
          run.allocator = spec.name;
          run.ok = false;
          run.error = error;
        }
        run.repetition = rep;
        if (run.ok && run.metrics.ops_per_s) {
          rates[{bench, spec.name}].push_back(*run.metrics.ops_per_s);
          std::cerr << fmt::format("{:.2f} M ops/s\n", *run.metrics.ops_per_s / 1e6);
        } else {
          ++failed;
          std::cerr << "FAILED: " << run.error << '\n';
        }
        results.runs.push_back(std::move(run));
        save();  // after each run: an interruption loses nothing already measured
      }
    }
  }

  // Median throughput per benchmark and allocator, M ops/s.
  std::cout << fmt::format("{:<32}", "microbenchmark (median M ops/s)");
  for (const AllocatorSpec &spec : specs) std::cout << fmt::format("{:>12}", spec.name);
  std::cout << '\n';
  for (const std::string &name : names) {
    const std::string bench = micro_bench_name(name);
    std::cout << fmt::format("{:<32}", bench);
    for (const AllocatorSpec &spec : specs) {
      auto it = rates.find({bench, spec.name});
      std::cout << (it == rates.end() ? fmt::format("{:>12}", "failed")
                                      : fmt::format("{:>12.2f}", median(it->second) / 1e6));
    }
    std::cout << '\n';
  }
  std::cout << fmt::format("results: {}{}\n", json_path, write_csv ? ", " + csv_path : "");
  if (interrupt_requested()) return kExitInterrupted;
  return failed > 0 ? kExitFailedRuns : kExitOk;
}

}  // namespace

void register_micro_command(CLI::App &app, CommandAction &action) {
  CLI::App *cmd = app.add_subcommand(
      "micro",
      "Run the Google Benchmark microbenchmarks of single calls (malloc/free per size class, "
      "a batch of 256, calloc, realloc growth, aligned_alloc): every repetition of every "
      "microbenchmark in a fresh allocbench-micro process with only that allocator preloaded "
      "and proven, the allocators side by side within a repetition, and merge the repetitions into "
      "DIR/results.json and results.csv as "
      "workload 'micro' (benchmark micro/bench=<name>/threads=1), comparable with "
      "`allocbench compare`.");
  cmd->footer(
      "Examples:\n"
      "  allocbench micro --out=out                 # every installed allocator\n"
      "  allocbench micro --allocator=glibc,fio --filter=BM_malloc_free --out=out\n"
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
  cmd->add_option("--timeout", args->timeout_s,
                  "seconds before one microbenchmark's process is killed")
      ->capture_default_str();
  cmd->add_flag("--replace", args->replace,
                "replace runs of the same microbenchmarks and allocators already in DIR");
  cmd->callback([args, &action] { action = [args] { return run_micro(*args); }; });
}

}  // namespace allocbench
