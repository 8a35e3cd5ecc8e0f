#include "statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace allocbench {

double student_t_95(std::size_t df) {
  if (df == 0) throw std::invalid_argument("student_t_95: degrees of freedom must be >= 1");
  // Exact to the shown digits for the small samples benchmarks use.
  static constexpr double kTable[] = {
      12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
      2.364624252,  2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
      2.160368656,  2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
      2.093024054,  2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
      2.059538553,  2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456};
  constexpr std::size_t kTableSize = sizeof(kTable) / sizeof(kTable[0]);
  if (df <= kTableSize) return kTable[df - 1];
  // Cornish-Fisher expansion around the normal quantile: below 1e-6 off for df > 30.
  const double z = 1.959963984540054;
  const double n = static_cast<double>(df);
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n) +
         (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * n * n * n * n);
}

double median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return values[mid];
  return (values[mid - 1] + values[mid]) / 2.0;
}

double mean(const std::vector<double> &values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double sample_stddev(const std::vector<double> &values) {
  if (values.size() < 2) return 0.0;
  const double m = mean(values);
  double sum_sq = 0.0;
  for (double v : values) sum_sq += (v - m) * (v - m);
  return std::sqrt(sum_sq / static_cast<double>(values.size() - 1));
}

MetricStats compute_stats(const std::vector<double> &values) {
  if (values.empty()) throw std::invalid_argument("compute_stats: no values");
  MetricStats s;
  s.median = median(values);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  s.mean = mean(values);
  s.stddev = sample_stddev(values);
  s.cv = s.mean != 0.0 ? s.stddev / s.mean : 0.0;
  if (values.size() < 2) {
    s.ci95_low = s.ci95_high = s.mean;
  } else {
    const double half =
        student_t_95(values.size() - 1) * s.stddev / std::sqrt(static_cast<double>(values.size()));
    s.ci95_low = s.mean - half;
    s.ci95_high = s.mean + half;
  }
  return s;
}

}  // namespace allocbench
