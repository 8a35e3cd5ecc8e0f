// A microbenchmark job: one Google Benchmark of the allocbench-micro binary, run whole in
// a fresh process with one allocator preloaded (the suite's second kind of job, beside a
// workload run), and its output read back as an allocbench run record.
//
// Each iteration row (one repetition of one benchmark) becomes one run of workload
// `micro` with the parameter bench=<benchmark name> (harness/RESULTS.md "Benchmark
// identity"): ops, allocs and frees come from the binary's counters, wall_s is
// iterations x real_time, ops_per_s = ops / wall_s. Aggregate rows are dropped: the
// summaries are recomputed from the repetitions like every other benchmark's.
#pragma once

#include <string>
#include <vector>

#include "allocators.h"
#include "results.h"

namespace allocbench {

inline constexpr const char *kMicroWorkload = "micro";

// What Google Benchmark calls a benchmark, split: "BM_group_free/real_time/threads:2" is
// BM_group_free run by 2 threads. Every microbenchmark measures real time, so that part
// of the name says nothing and is dropped.
struct MicroName {
  std::string bench;     // "BM_group_free"
  unsigned threads = 1;  // from "/threads:N", 1 without it
};
MicroName split_micro_name(const std::string &gbench_name);

// The identity of a microbenchmark: micro/bench=<name>/threads=<n>.
BenchmarkId micro_benchmark_id(const std::string &bench, unsigned threads);
BenchmarkId micro_benchmark_id(const MicroName &name);

struct MicroOutput {
  AllocatorProof proof;  // from the context keys the binary writes after proving
  std::vector<RunRecord> runs;
};

// Throws std::runtime_error when the document is not allocbench-micro output (no proof
// in its context, a row without the fields a run needs).
MicroOutput parse_micro_output(const Json &doc, const std::string &allocator);

// The allocbench-micro binary: $ALLOCBENCH_MICRO, else next to the running executable.
std::string micro_executable();

// The binary's benchmarks whose name matches the regular expression `filter` (all when
// empty), by their Google Benchmark names. Throws std::invalid_argument when the binary
// cannot list them or nothing matches, std::runtime_error when interrupted.
std::vector<std::string> list_micro_benchmarks(const std::string &exe, const std::string &filter);

struct MicroJob {
  std::string exe;        // allocbench-micro
  std::string benchmark;  // its Google Benchmark name, as listed
  double min_time_s = 0.05;
  // Counted mode (callgrind.h): 0 for timed runs; otherwise the benchmark runs under
  // callgrind twice, N and 2N iterations, and the figures per operation are the difference
  // of the two counts over the difference of the operations. N is `counted_iterations`,
  // or more where N iterations are fewer than 16384 operations (a third run finds out).
  // The record's other figures are those of the longer run (valgrind's time).
  unsigned counted_iterations = 0;
};

// The name Google Benchmark gives `listed` (a name as listed, without a fixed iteration
// count) when it runs `iterations` iterations: "BM_x/64/real_time" at 16 is
// "BM_x/64/iterations:16/real_time".
std::string with_fixed_iterations(const std::string &listed, unsigned iterations);

// Runs one repetition of `job` with `allocator` preloaded and proven. A timeout, a crash,
// a failed proof or unreadable output is a failed record saying so; `interrupted` is set
// (and the record is meaningless) when the parent was asked to stop.
RunRecord run_micro_job(const MicroJob &job, const AllocatorSpec &allocator, double timeout_s,
                        bool &interrupted);

}  // namespace allocbench
