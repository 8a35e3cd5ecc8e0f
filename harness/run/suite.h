// The suite: every (job, repetition, allocator) run, one process each, recorded as it
// finishes. A job is a workload at a thread count (a child of allocbench itself), a
// microbenchmark (a run of the allocbench-micro binary) or a program (a real program run
// unmodified): all yield the same run records.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "allocators.h"
#include "console.h"
#include "micro_job.h"
#include "program_job.h"
#include "result_writer.h"

namespace allocbench {

// One workload with its parameters bound and its scale resolved.
struct WorkloadPlan {
  std::string name;
  std::vector<std::pair<std::string, std::string>> params;  // declared order, defaults included
  std::string size;
  std::uint64_t ops = 0;  // total over all threads (unused when duration_s > 0)
  double duration_s = 0.0;
};

struct WorkloadJob {
  WorkloadPlan workload;
  unsigned threads = 1;
};

// One benchmark of the suite, run once per repetition and allocator.
struct SuiteJob {
  std::variant<WorkloadJob, MicroJob, ProgramJob> what;

  BenchmarkId id() const;
};

struct SuitePlan {
  std::string exe;  // the allocbench binary the workload children run
  std::vector<SuiteJob> jobs;
  std::vector<AllocatorSpec> allocators;
  unsigned repetitions = 5;
  std::uint64_t seed = 42;
  double timeout_s = 300.0;
  unsigned latency_every = 0;     // latency mode: time one call in N (0: throughput runs)
  bool counted = false;           // counted mode: workload children run under callgrind
  unsigned rss_interval_ms = 10;  // the parent's RSS sampling of each child (0: off)

  // Every workload at every thread count, in that order.
  void add_workloads(const std::vector<WorkloadPlan> &workloads,
                     const std::vector<unsigned> &threads);

  std::size_t total_runs() const { return jobs.size() * repetitions * allocators.size(); }
};

struct SuiteOutcome {
  std::size_t runs = 0;    // recorded repetitions
  std::size_t failed = 0;  // of which failed
  bool interrupted = false;
};

// Runs the plan. Order: job, then repetition, then allocator, so the allocators alternate
// and a slow drift of the machine (heat, other load) spreads over all of them instead of
// biasing one. Every repetition uses the same seed: repetitions
// repeat the same work, and their spread is the machine's noise. Ends with the line "N
// runs, M failed; wrote FILES" on the console.
SuiteOutcome run_suite(const SuitePlan &plan, ResultFiles &files, Console &console);

}  // namespace allocbench
