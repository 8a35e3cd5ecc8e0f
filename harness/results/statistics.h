// Descriptive statistics over the repetitions of one benchmark: the one module for the
// summaries of a result file, compare and the exports (the plots read the summaries).
#pragma once

#include <cstddef>
#include <vector>

#include "results.h"

namespace allocbench {

// Two-sided 95% quantile of Student's t distribution with `df` degrees of freedom
// (t such that P(|T| <= t) = 0.95). df >= 1.
double student_t_95(std::size_t df);

double median(std::vector<double> values);  // NaN when empty
double mean(const std::vector<double> &values);
// Sample standard deviation (divides by n - 1); 0 when fewer than two values.
double sample_stddev(const std::vector<double> &values);

// median, min, max, mean, sample stddev, cv = stddev / mean (0 when the mean is 0),
// and the 95% confidence interval of the mean, mean -/+ t(0.975, n-1) * stddev / sqrt(n)
// (equal to the mean when n == 1). `values` must not be empty.
MetricStats compute_stats(const std::vector<double> &values);

}  // namespace allocbench
