// Repetitions of a result file (harness/RESULTS.md), grouped per benchmark and allocator:
// the view that `allocbench compare` and `allocbench export` work on. The file is read by
// the runner's reader (result_reader.h); this groups its runs.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "metrics.h"
#include "results.h"

namespace allocbench {

// A result file that cannot be used: unreadable, not JSON, or not the documented schema.
class ResultFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A metric compare and export accept (metrics.h: `comparable`), or nullptr.
const MetricDef *find_metric(std::string_view name);

// The repetitions of one benchmark with one allocator.
struct SampleSet {
  std::string benchmark;  // the canonical key (RESULTS.md "Benchmark identity")
  std::string workload;
  std::string allocator;
  unsigned threads = 0;
  std::size_t failed = 0;  // repetitions whose status was not "ok"
  std::string first_error;
  std::string allocator_version;  // from the run's proof, empty when not reported
  // Metrics of each successful repetition, in file order; latency percentiles appear as
  // lat_p50_ns, lat_p99_ns, lat_p999_ns and lat_max_ns as in the CSV.
  std::vector<std::map<std::string, double>> ok_runs;

  // Values of one metric over the successful repetitions that measured it.
  std::vector<double> values(std::string_view metric) const;
};

struct ResultFile {
  std::string path;
  Context context;
  std::vector<SampleSet> sets;  // in order of first appearance in the file

  const SampleSet *find(std::string_view benchmark, std::string_view allocator) const;
};

// Reads a results.json (or DIR/results.json when given a directory). Throws
// ResultFileError naming the file and what is wrong with it.
ResultFile load_result_file(const std::string &path);

}  // namespace allocbench
