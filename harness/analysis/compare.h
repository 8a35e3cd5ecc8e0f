// `allocbench compare BASE.json NEW.json`: decides, per benchmark and allocator, whether a
// new result file is better, worse or the same as a base one.
//
// Each benchmark present in both files is decided with a two-sided Mann-Whitney U test on
// the repetitions of one metric and a minimum effect size on the change of the medians: a
// regression is a change in the bad direction that is both significant (p < alpha) and at
// least min_effect. Ratio mode divides every repetition by the median of a reference
// allocator measured in the same file for the same benchmark, so that a machine that is
// uniformly slower does not read as a regression.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "result_samples.h"

namespace allocbench {

struct CompareOptions {
  double alpha = 0.05;                  // significance level of the U test
  double min_effect = 0.05;             // smallest relative change of the medians that counts
  std::string metric;                   // empty: each benchmark's primary metric (metrics.h)
  std::string ratio_to;                 // reference allocator; empty: compare absolute values
  std::vector<std::string> allocators;  // compare only these; empty: all
};

// kNoData: no successful repetition (or no value of the metric, or no reference run in
// ratio mode) on a side. Unlike a verdict, it fails a CI gate: nothing was compared.
enum class Verdict { kImproved, kRegressed, kUnchanged, kInconclusive, kNoData };
const char *verdict_name(Verdict v);

struct BenchmarkComparison {
  std::string benchmark;
  std::string allocator;
  std::size_t n_base = 0, n_new = 0;           // repetitions used on each side
  double base_median = 0.0, new_median = 0.0;  // in ratio mode: ratios to the reference
  double change = 0.0;   // (new_median - base_median) / base_median; NaN when unknown
  double p_value = 1.0;  // NaN when the test was not run
  double min_p = 1.0;    // smallest p-value the repetition counts allow
  Verdict verdict = Verdict::kInconclusive;
  std::string reason;  // why, for every verdict other than a plain "unchanged"
};

struct CompareReport {
  std::string base_path, new_path;
  std::vector<BenchmarkComparison> rows;
  std::vector<std::string> only_in_base;  // "benchmark [allocator]"
  std::vector<std::string> only_in_new;
  std::vector<std::string> context_differences;  // "cpu_model: 'A' -> 'B'"
  std::vector<std::string> notes;

  std::size_t count(Verdict v) const;
  bool has_regression() const { return count(Verdict::kRegressed) > 0; }
  // Nothing to decide on: no benchmark in both files, or one compared without data.
  bool lacks_data() const { return rows.empty() || count(Verdict::kNoData) > 0; }
};

// Throws std::invalid_argument on options that make no sense (alpha outside (0, 1), a
// negative effect, an unknown metric) and ResultFileError when ratio mode's reference
// allocator has no runs at all in one of the files.
CompareReport compare_results(const ResultFile &base, const ResultFile &next,
                              const CompareOptions &options);

// The table, the notes and a one-line conclusion.
void print_compare_report(std::ostream &out, const CompareReport &report,
                          const CompareOptions &options);

}  // namespace allocbench
