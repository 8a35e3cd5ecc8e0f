// The run command (the root of the CLI): options, their validation, the allocator
// probes, the output directory, then the suite.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "allocbench/workload.h"
#include "allocator_catalogue.h"
#include "allocator_selection.h"
#include "allocators.h"
#include "callgrind.h"
#include "child_runner.h"
#include "commands.h"
#include "context.h"
#include "listings.h"
#include "output_dir.h"
#include "process.h"
#include "program_job.h"
#include "programs.h"
#include "rss_sampler.h"
#include "run_options.h"
#include "suite.h"

namespace allocbench {

namespace {

struct RunOptions {
  std::string workloads;
  std::string allocators;
  std::string threads;
  std::string repetitions = "5";
  std::string ops;
  std::string duration;
  std::string size;
  std::string touch;  // --touch: the `touch` parameter of every selected workload
  std::vector<std::string> params;
  std::string seed = "42";
  std::string formats = "csv,json";
  std::string out;
  std::string timeout = "300";
  std::string latency_every;  // --latency[=N]
  std::string rss_interval = "10";
  std::string cpus;
  std::string measure = "time";  // --measure: time, or instructions (counted mode)
  std::string programs;          // --program
  std::string program_cmd;       // --program-cmd
  std::string program_name;      // --program-name
  std::string program_output = "compare";
  bool force = false;
  bool list = false;
  bool list_allocators = false;
  bool format_given = false;  // --format, which with a listing is text or json
};

const char *kExamples = R"(
Examples:
  allocbench --workload=group-free --threads=32
      the fio design point at 32 threads, every installed allocator, 5 repetitions
  allocbench --workload=all --threads=1..16 --repetitions=10 --out=results/today
      every workload at 1, 2, 4, 8, 16 threads
  allocbench --workload=group-free --allocator=fio,mimalloc --param zeroed=1 --size=16..512
      zeroed memory for every allocator (calloc): the fair comparison with fio
  allocbench --workload=group-free,alloc-free --touch=ends
      the allocators' own costs, with each object written only at its ends
  allocbench --workload=larson,random-lifetime --allocator=glibc,mine=/opt/lib/libmine.so
      any other allocator, preloaded from its library
  allocbench --list                 workloads, their parameters, defaults and units
  allocbench --list-allocators      which allocators are installed, and their versions
  allocbench --list-allocators --format=json
                                    the same for scripts (--list too)
  allocbench --program=all --repetitions=5
      the built-in programs (python, g++, xz, sqlite, redis, lua, perl) under each allocator
  allocbench --program-cmd='./myapp --flag' --program-name=myapp
      your own program: wall time, CPU, RSS of its process tree; output compared

Threads: 1,2,4 lists counts; MIN..MAX runs MIN, 2*MIN, 4*MIN, ... and MAX itself
(1..6 is 1,2,4,6). Scale: --ops is the total of allocating calls and frees over all
threads (default: each workload's own); --duration runs every thread for that time.
Each run is one repetition in a fresh child process with the allocator preloaded
(LD_PRELOAD, the library alone); the child proves which library serves malloc before
it runs, and a mismatch is a failed run, never a result. Output: DIR/results.csv and
DIR/results.json (harness/RESULTS.md), written as results arrive; the default DIR is
allocbench-results/YYYYmmdd-HHMMSS. Exit status: 0 all runs ok, 1 some runs failed,
2 bad arguments (nothing run), 4 a result file or stdout could not be written (what was
written before stays whole), 130 interrupted by SIGINT, SIGTERM or SIGHUP (what finished
is written).
)";

// ---- allocators ----

// A listing's format: text for people (the default) or json for scripts.
bool listing_as_json(const RunOptions &o) {
  if (!o.format_given || o.formats == "text") return false;
  if (o.formats == "json") return true;
  throw UsageError(
      fmt::format("--format: '{}' is not a listing format (accepted with --list "
                  "and --list-allocators: text, json)",
                  o.formats));
}

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// ---- the run ----

std::vector<const Workload *> select_workloads(const std::string &text) {
  const WorkloadRegistry &registry = WorkloadRegistry::instance();
  if (text.empty())
    throw UsageError("no workload given (accepted: --workload=NAME[,NAME...] or all; see --list)");
  if (text == "all") return registry.all();
  std::vector<const Workload *> selected;
  for (const std::string &name : split_list(text, "--workload")) {
    const Workload *w = registry.find(name);
    if (!w) {
      std::string names;
      for (const Workload *known : registry.all())
        names += (names.empty() ? "" : ", ") + known->name();
      throw UsageError(
          fmt::format("--workload: unknown workload '{}' (accepted: {}, or all)", name, names));
    }
    if (std::find(selected.begin(), selected.end(), w) == selected.end()) selected.push_back(w);
  }
  return selected;
}

// --program (built-in programs) and --program-cmd (the user's own), checked. A built-in
// program whose executables are missing is skipped with a line in `skipped` when all were
// asked for, refused when named; the user's command must exist, be executable and succeed
// under glibc itself (run once here, with the probe).
std::vector<ProgramDef> select_programs(const RunOptions &o, std::vector<std::string> &skipped) {
  std::vector<ProgramDef> selected;
  if (!o.programs.empty()) {
    std::vector<ProgramDef> builtin;
    try {
      builtin = builtin_programs();
    } catch (const std::runtime_error &e) {
      throw UsageError(fmt::format("--program: {}", e.what()));
    }
    std::string names;
    for (const ProgramDef &p : builtin) names += (names.empty() ? "" : ", ") + p.name;
    const bool all = o.programs == "all";
    const std::vector<std::string> wanted =
        all ? std::vector<std::string>{} : split_list(o.programs, "--program");
    for (const ProgramDef &p : builtin) {
      if (!all && std::find(wanted.begin(), wanted.end(), p.name) == wanted.end()) continue;
      if (const auto missing = program_missing(p)) {
        if (!all)
          throw UsageError(fmt::format("--program: {} cannot run here: {}", p.name, *missing));
        skipped.push_back(fmt::format("program {}: {}", p.name, *missing));
        continue;
      }
      selected.push_back(p);
    }
    for (const std::string &name : wanted)
      if (std::none_of(builtin.begin(), builtin.end(),
                       [&](const ProgramDef &p) { return p.name == name; }))
        throw UsageError(
            fmt::format("--program: unknown program '{}' (accepted: {}, or all)", name, names));
  }
  if (!o.program_name.empty() && o.program_cmd.empty())
    throw UsageError("--program-name: names the command of --program-cmd, which is not given");
  if (o.program_output != "compare" && o.program_output != "ignore")
    throw UsageError(fmt::format(
        "--program-output: '{}' is not accepted (accepted: compare, ignore)", o.program_output));
  if (!o.program_cmd.empty()) {
    ProgramDef user;
    user.user = true;
    try {
      user.command = split_command_line(o.program_cmd);
    } catch (const std::invalid_argument &e) {
      throw UsageError(fmt::format("--program-cmd: {}", e.what()));
    }
    const std::string &exe = user.command.front();
    const std::optional<std::string> path = find_executable(exe);
    if (!path)
      throw UsageError(fmt::format("--program-cmd: '{}' does not exist{}", exe,
                                   exe.find('/') == std::string::npos ? " on PATH" : ""));
    if (::access(path->c_str(), X_OK) != 0 || std::filesystem::is_directory(*path))
      throw UsageError(fmt::format("--program-cmd: '{}' is not executable", *path));
    user.command.front() = *path;
    user.name =
        o.program_name.empty() ? std::filesystem::path(*path).filename().string() : o.program_name;
    if (user.name.empty() || user.name.find_first_of("/,=") != std::string::npos)
      throw UsageError(fmt::format(
          "--program-name: '{}' is not a name (accepted: no '/', ',' or '=')", user.name));
    for (const ProgramDef &p : selected)
      if (p.name == user.name)
        throw UsageError(fmt::format(
            "--program-name: '{}' is also a built-in program's name; choose another", user.name));
    user.description = "the command " + o.program_cmd;
    user.compare_output = o.program_output == "compare";
    // Refused now, not as rows: a command that fails on the system's allocator measures
    // nothing.
    bool interrupted = false;
    const ProgramRun check =
        run_program_job(ProgramJob{user}, AllocatorSpec{"glibc", "", "glibc"},
                        parse_duration(o.timeout, "--timeout"), 0, interrupted);
    if (interrupted) throw UsageError("interrupted while checking --program-cmd");
    if (!check.record.ok)
      throw UsageError(fmt::format("--program-cmd: '{}' fails under glibc itself: {}",
                                   o.program_cmd, check.record.error));
    selected.push_back(std::move(user));
  }
  return selected;
}

// Applies --param to each workload that declares the key; a key nobody declares is an error.
std::vector<WorkloadPlan> plan_workloads(const std::vector<const Workload *> &workloads,
                                         const RunOptions &o) {
  std::map<std::string, std::string> given;
  for (const std::string &text : o.params) {
    auto [key, value] = parse_param(text);
    if (given.count(key) && given[key] != value)
      throw UsageError(fmt::format("--param: '{}' is given twice with different values", key));
    given[key] = value;
  }
  if (!o.touch.empty()) {
    if (!parse_touch(o.touch))
      throw UsageError(fmt::format(
          "--touch: '{}' is not a level (accepted: full, lines, pages, ends)", o.touch));
    if (given.count("touch") && given["touch"] != o.touch)
      throw UsageError(
          fmt::format("--touch={} and --param touch={} disagree", o.touch, given["touch"]));
    given["touch"] = o.touch;
  }
  std::set<std::string> used;
  std::optional<std::string> size;
  if (!o.size.empty()) {
    try {
      size = SizeDistribution::parse(o.size).text();
    } catch (const std::invalid_argument &e) {
      throw UsageError(fmt::format("--size: {}", e.what()));
    }
  }
  std::uint64_t ops = 0;
  double duration = 0.0;
  if (!o.ops.empty()) ops = parse_count(o.ops, "--ops");
  if (!o.duration.empty()) duration = parse_duration(o.duration, "--duration");

  std::vector<WorkloadPlan> plans;
  for (const Workload *w : workloads) {
    std::map<std::string, std::string> mine;
    for (const ParamSpec &p : w->params()) {
      if (auto it = given.find(p.name); it != given.end()) {
        mine.insert(*it);
        used.insert(p.name);
      }
    }
    WorkloadPlan plan;
    plan.name = w->name();
    try {
      plan.params = w->bind(mine).items();
    } catch (const std::invalid_argument &e) {
      throw UsageError(fmt::format("--param for {}: {}", w->name(), e.what()));
    }
    plan.size = size ? *size : SizeDistribution::parse(w->default_size()).text();
    plan.ops = ops ? ops : w->default_ops();
    plan.duration_s = duration;
    plans.push_back(std::move(plan));
  }
  for (const auto &[key, value] : given) {
    if (used.count(key)) continue;
    std::string accepted;
    for (const Workload *w : workloads) {
      std::string names;
      for (const ParamSpec &p : w->params()) names += (names.empty() ? "" : ", ") + p.name;
      accepted += fmt::format("{}{}: {}", accepted.empty() ? "" : "; ", w->name(),
                              names.empty() ? "none" : names);
    }
    throw UsageError(
        fmt::format("--param: no selected workload takes '{}' (accepted: {})", key, accepted));
  }
  return plans;
}

int run_checked(const RunOptions &o);

int run(const RunOptions &o) {
  // The option parsers throw std::invalid_argument; here that is bad input.
  try {
    return run_checked(o);
  } catch (const std::invalid_argument &e) {
    throw UsageError(e.what());
  }
}

int run_checked(const RunOptions &o) {
  const std::string exe = self_executable();
  if (o.list) return list_workloads(listing_as_json(o));
  if (o.list_allocators) return list_allocators(o.allocators, exe, listing_as_json(o));

  // Everything the command line says is checked before anything runs or is written.
  SuitePlan plan;
  plan.exe = exe;
  const bool programs_given = !o.programs.empty() || !o.program_cmd.empty();
  std::vector<WorkloadPlan> workloads = o.workloads.empty() && programs_given
                                            ? std::vector<WorkloadPlan>{}
                                            : plan_workloads(select_workloads(o.workloads), o);
  if (o.measure != "time" && o.measure != "instructions")
    throw UsageError(
        fmt::format("--measure: '{}' is not accepted (accepted: time, instructions)", o.measure));
  plan.counted = o.measure == "instructions";
  if (plan.counted) {
    if (programs_given) throw UsageError("--measure=instructions counts workloads, not programs");
    if (!o.latency_every.empty())
      throw UsageError("--measure=instructions and --latency cannot be combined");
    if (!o.duration.empty())
      throw UsageError(
          "--measure=instructions needs a fixed amount of work: --ops, not --duration");
    if (!valgrind_executable())
      throw UsageError("--measure=instructions needs valgrind (apt-get install valgrind)");
    // Under callgrind a run is some 50 times slower: a twentieth of the default work
    // still repeats its count to a fraction of a percent.
    if (o.ops.empty())
      for (WorkloadPlan &w : workloads) w.ops = std::max<std::uint64_t>(w.ops / 20, 2000);
  }
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  const std::vector<unsigned> threads =
      parse_thread_list(o.threads.empty() ? fmt::format("1..{}", std::max(1L, cpus)) : o.threads);
  plan.add_workloads(workloads, threads);
  if (!o.ops.empty() && !workloads.empty()) {
    // Every thread needs at least an allocation and its free, or the run does no work.
    const std::uint64_t ops = parse_count(o.ops, "--ops");
    const std::uint64_t needed = 2ull * threads.back();
    if (ops < needed)
      throw UsageError(fmt::format(
          "--ops: {} operations cannot be split over {} threads (accepted: at least 2 per "
          "thread, {} here)",
          ops, threads.back(), needed));
  }
  const std::uint64_t reps = parse_count(o.repetitions, "--repetitions");
  if (reps > 10000)
    throw UsageError(fmt::format("--repetitions: {} is too many (accepted: 1..10000)", reps));
  plan.repetitions = static_cast<unsigned>(reps);
  {
    std::uint64_t seed = 0;
    const std::string &s = o.seed;
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos ||
        (seed = std::strtoull(s.c_str(), nullptr, 10), errno == ERANGE))
      throw UsageError(fmt::format("--seed: '{}' is not a number (accepted: 0..2^64-1)", s));
    plan.seed = seed;
  }
  plan.timeout_s = parse_duration(o.timeout, "--timeout");
  if (!o.latency_every.empty()) {
    const std::uint64_t every = parse_count(o.latency_every, "--latency");
    if (every > 1000000)
      throw UsageError(
          fmt::format("--latency: one call in {} is too few (accepted: 1..1000000)", every));
    plan.latency_every = static_cast<unsigned>(every);
  }
  plan.rss_interval_ms = parse_rss_interval(o.rss_interval);
  const std::vector<unsigned> pinned_cpus =
      o.cpus.empty() ? std::vector<unsigned>{} : parse_cpu_list(o.cpus);
  const std::vector<OutputFormat> formats = parse_formats(o.formats);

  // The output directory before the probes, so that a bad --out fails fast; it is only
  // created once everything else is known to be right.
  const bool out_given = !o.out.empty();
  std::string out_dir = out_given ? o.out : default_output_directory();
  while (out_dir.size() > 1 && out_dir.back() == '/') out_dir.pop_back();
  if (!o.force) {
    for (const std::string &path :
         {ResultFiles::csv_path(out_dir), ResultFiles::json_path(out_dir)})
      if (exists(path))
        throw UsageError(
            fmt::format("--out: {} already exists (use --force to overwrite it, or "
                        "another --out)",
                        path));
  }

  check_output_directory(out_dir);

  if (!pinned_cpus.empty()) run_on_cpus(pinned_cpus);
  install_interrupt_handlers();
  std::vector<std::string> programs_skipped;
  const std::vector<ProgramDef> programs = select_programs(o, programs_skipped);
  for (const ProgramDef &p : programs) plan.jobs.push_back(SuiteJob{ProgramJob{p}});
  if (plan.jobs.empty())
    throw UsageError("no program can run here (see --list and the lines above)");
  const AllocatorSelection allocators = select_allocators(o.allocators, exe);
  if (allocators.interrupted) return kExitInterrupted;
  if (allocators.specs.empty())
    throw UsageError("no allocator is available (see --list-allocators)");
  plan.allocators = allocators.specs;

  make_output_directory(out_dir);
  if (o.force) {
    // A result file of a format not written now would sit next to the new one and
    // describe another run: --force replaces the pair.
    const bool csv = std::find(formats.begin(), formats.end(), OutputFormat::kCsv) != formats.end();
    const std::string stale =
        csv ? ResultFiles::json_path(out_dir) : ResultFiles::csv_path(out_dir);
    if (formats.size() == 1 && exists(stale) && ::unlink(stale.c_str()) == 0)
      fmt::print(stderr, "removed {} (--force)\n", stale);
  }
  for (const std::string &line : allocators.skipped) fmt::print(stderr, "skipped {}\n", line);
  for (const std::string &line : programs_skipped) fmt::print(stderr, "skipped {}\n", line);
  Console console(stdout, stderr);
  ResultFiles files(out_dir, formats, collect_context(command_line(), allocators.infos));
  const std::string programs_text =
      programs.empty() ? std::string() : fmt::format(" + {} programs", programs.size());
  std::string versions;
  for (const AllocatorInfo &info : allocators.infos)
    if (info.available)
      versions += fmt::format("{}{} {}", versions.empty() ? "" : ", ", info.name,
                              info.version.value_or("?"));
  console.note(
      fmt::format("allocbench {}: {} runs (({} workloads x {} thread counts{}) x {} "
                  "repetitions x {} allocators: {}) -> {}",
                  allocbench_version(), plan.total_runs(), workloads.size(),
                  workloads.empty() ? 0 : threads.size(), programs_text, plan.repetitions,
                  plan.allocators.size(), versions, out_dir));
  const SuiteOutcome outcome = run_suite(plan, files, console);
  if (outcome.interrupted) return kExitInterrupted;
  return outcome.failed ? kExitFailedRuns : kExitOk;
}

}  // namespace

void register_run_command(CLI::App &app, CommandAction &action) {
  auto o = std::make_shared<RunOptions>();
  app.footer(kExamples);
  app.add_option("--workload,-w", o->workloads, "workloads to run, or all (see --list)")
      ->type_name("NAME[,NAME...]|all");
  app.add_option("--allocator,-a", o->allocators,
                 fmt::format("allocators: {}, or NAME=/path/to/lib.so (default: every one "
                             "installed)",
                             catalogue_names_text()))
      ->type_name("NAME[,NAME...]");
  app.add_option("--threads,-t", o->threads,
                 "thread counts: 1,2,4 or MIN..MAX (MIN, 2*MIN, ... and MAX); default 1..CPUs")
      ->type_name("LIST");
  app.add_option("--repetitions,-r", o->repetitions, "repetitions of each benchmark")
      ->type_name("N")
      ->capture_default_str();
  auto *ops = app.add_option("--ops", o->ops,
                             "total operations (allocating calls + frees) over all threads; "
                             "suffixes k, M, G (default: the workload's own)")
                  ->type_name("N");
  auto *duration = app.add_option("--duration", o->duration,
                                  "run every thread for this long instead (2s, 500ms)")
                       ->type_name("TIME");
  ops->excludes(duration);
  duration->excludes(ops);
  app.add_option("--size", o->size,
                 "request sizes: fixed (64), uniform range (16..512) or a named table (see --list) "
                 "(default: the workload's own)")
      ->type_name("SIZE");
  app.add_option("--touch", o->touch,
                 "how much of each object every workload writes and checks: full (every byte), "
                 "lines (a word per 64-byte line), pages (a word per 4 KiB page), ends (16 bytes "
                 "at each end); part of the benchmark key (default: the workload's own, full "
                 "except large and trace-replay: pages)")
      ->type_name("LEVEL");
  app.add_option("--param,-p", o->params,
                 "workload parameter, repeatable; applies to each selected workload that declares "
                 "KEY")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--seed", o->seed, "seed of the workloads' random choices")
      ->type_name("N")
      ->capture_default_str();
  auto *format = app.add_option("--format", o->formats,
                                "result files to write: csv, json or csv,json (with --list or "
                                "--list-allocators: text or json)")
                     ->type_name("LIST")
                     ->capture_default_str();
  app.add_option("--out,-o", o->out,
                 "directory for results.csv and results.json (default: "
                 "allocbench-results/YYYYmmdd-HHMMSS)")
      ->type_name("DIR");
  app.add_flag("--force", o->force, "overwrite results already in --out");
  app.add_option("--latency", o->latency_every,
                 "latency mode: time one call in N of each thread (default N 16) and report "
                 "p50/p99/p99.9/max; these runs' throughput includes the timing")
      ->type_name("[N]")
      ->expected(0, 1)
      ->default_str("16");
  app.add_option("--rss-interval", o->rss_interval,
                 "interval of the parent's RSS sampling of each child, in ms (0: off)")
      ->type_name("MS")
      ->capture_default_str();
  app.add_option("--timeout", o->timeout, "time limit of one run (seconds, or 90s, 5m)")
      ->type_name("TIME")
      ->capture_default_str();
  app.add_option("--program", o->programs,
                 "built-in programs to run unmodified under each allocator (wall time, CPU, "
                 "RSS of the process tree), or all (see --list)")
      ->type_name("NAME[,NAME...]|all");
  app.add_option("--program-cmd", o->program_cmd,
                 "your own command, run like a built-in program (words split as a shell "
                 "does, no expansions); it must succeed under glibc")
      ->type_name("'CMD ARGS'");
  app.add_option("--program-name", o->program_name,
                 "the name of --program-cmd in the results (default: its file name)")
      ->type_name("NAME");
  app.add_option("--program-output", o->program_output,
                 "compare: --program-cmd's standard output must be the same under every "
                 "allocator (a difference is a failed row); ignore: it may differ")
      ->type_name("compare|ignore")
      ->capture_default_str();
  app.add_option("--measure", o->measure,
                 "time: wall-clock throughput (the default); instructions: each workload child "
                 "runs under valgrind's callgrind, which counts the measured phase's "
                 "instructions, data reads and writes and cache misses (its cache model) per "
                 "operation, into each run's extra figures (cg_*); a twentieth of the default "
                 "work unless --ops is given")
      ->type_name("time|instructions")
      ->capture_default_str();
  app.add_option("--cpus", o->cpus,
                 "run every child on these CPUs only, as taskset takes them: 1, 0,2, 0-3 "
                 "(default: wherever the system schedules it)")
      ->type_name("LIST");
  app.add_flag("--list", o->list, "list the workloads with their parameters, defaults and units");
  app.add_flag("--list-allocators", o->list_allocators,
               "list the allocators with their availability, version and library");
  app.callback([&app, &action, o, format] {
    if (!app.get_subcommands().empty() || action) return;
    o->format_given = format->count() > 0;
    action = [o] { return run(*o); };
  });
  (void)app;
}

}  // namespace allocbench
