// The suite: every (workload, threads, repetition, allocator) run, one child each,
// recorded as it finishes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "allocators.h"
#include "console.h"
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

struct SuitePlan {
  std::string exe;  // the allocbench binary the children run
  std::vector<WorkloadPlan> workloads;
  std::vector<AllocatorSpec> allocators;
  std::vector<unsigned> threads;
  unsigned repetitions = 5;
  std::uint64_t seed = 42;
  double timeout_s = 300.0;
  unsigned latency_every = 0;     // latency mode: time one call in N (0: throughput runs)
  unsigned rss_interval_ms = 10;  // the parent's RSS sampling of each child (0: off)

  std::size_t total_runs() const {
    return workloads.size() * threads.size() * repetitions * allocators.size();
  }
};

struct SuiteOutcome {
  std::size_t runs = 0;    // recorded repetitions
  std::size_t failed = 0;  // of which failed
  bool interrupted = false;
};

// Runs the plan. Order: workload, then threads, then repetition, then allocator, so the
// allocators alternate and a slow drift of the machine (heat, other load) spreads over
// all of them instead of biasing one. Every repetition uses the same seed: repetitions
// repeat the same work, and their spread is the machine's noise.
SuiteOutcome run_suite(const SuitePlan &plan, ResultFiles &files, Console &console);

}  // namespace allocbench
