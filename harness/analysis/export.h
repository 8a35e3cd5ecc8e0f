// `allocbench export`: a result file in the formats that CI benchmark trackers read.
//
//   github-action-benchmark  the "custom" tools of benchmark-action/github-action-benchmark:
//                            a JSON array of {name, unit, value, range, extra}; throughput is
//                            fed to tool customBiggerIsBetter, RSS and latency to
//                            customSmallerIsBetter (the metric decides which).
//   bencher                  Bencher Metric Format (BMF): {benchmark: {measure: {value,
//                            lower_value, upper_value}}} with the measures throughput (ops/s),
//                            latency (ns, when measured) and peak-rss-kib.
//   gbench                   Google Benchmark's JSON reporter output: a context block and a
//                            benchmarks array of iteration rows (one per repetition) and
//                            mean/median/stddev/cv aggregate rows; one iteration is one
//                            allocating call or free.
//
// Every format names a benchmark `<benchmark key>/allocator=<name>` and reports the
// median over the successful repetitions, with their spread (min..max or stddev).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result_samples.h"

namespace allocbench {

enum class ExportFormat { kGithubActionBenchmark, kBencher, kGoogleBenchmark };

// "github-action-benchmark", "bencher" or "gbench"; nullopt for anything else.
std::optional<ExportFormat> parse_export_format(std::string_view name);
inline constexpr std::string_view kExportFormatNames = "github-action-benchmark, bencher, gbench";

// The name every export gives a (benchmark, allocator) pair.
std::string export_benchmark_name(const SampleSet &set);

// One entry per sample set that measured `metric`. Throws std::invalid_argument for an
// unknown metric.
Json export_github_action_benchmark(const ResultFile &file, std::string_view metric);
// The github-action-benchmark tool that reads an export of `metric`.
std::string github_action_benchmark_tool(std::string_view metric);

Json export_bencher(const ResultFile &file);

Json export_google_benchmark(const ResultFile &file);

// Sample sets that no export can carry (no successful repetition), as "benchmark [alloc]".
std::vector<std::string> unexportable_sets(const ResultFile &file);

}  // namespace allocbench
