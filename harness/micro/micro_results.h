// allocbench-micro's output (Google Benchmark JSON) as allocbench result records.
//
// Each iteration row (one repetition of one benchmark) becomes one run of workload
// `micro` with the parameter bench=<benchmark name> (harness/RESULTS.md "Benchmark
// identity"): ops, allocs and frees come from the binary's counters, wall_s is
// iterations x real_time, ops_per_s = ops / wall_s. Aggregate rows are dropped: the
// summaries are recomputed from the repetitions like every other benchmark's.
#pragma once

#include <string>
#include <vector>

#include "results.h"

namespace allocbench {

inline constexpr const char *kMicroWorkload = "micro";

// "BM_malloc_free/64/real_time" -> "BM_malloc_free/64": every microbenchmark measures real
// time, so the suffix says nothing.
std::string micro_bench_name(const std::string &gbench_name);

// The identity of a microbenchmark: micro/bench=<name>/threads=<n>.
BenchmarkId micro_benchmark_id(const std::string &bench, unsigned threads);

struct MicroOutput {
  AllocatorProof proof;  // from the context keys the binary writes after proving
  std::vector<RunRecord> runs;
};

// Throws std::runtime_error when the document is not allocbench-micro output (no proof
// in its context, a row without the fields a run needs).
MicroOutput parse_micro_output(const Json &doc, const std::string &allocator);

}  // namespace allocbench
