#include "mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace allocbench {
namespace {

// Ranks of the pooled sample, doubled so that midranks of tied groups stay integers:
// a group that occupies 1-based positions a..b gets the doubled rank a + b.
struct PooledRanks {
  std::vector<long> doubled_rank;  // per pooled element, in input order (x first, then y)
  double tie_term = 0.0;           // sum over tied groups of t^3 - t
  bool ties = false;
};

PooledRanks rank_pooled(const std::vector<double> &x, const std::vector<double> &y) {
  const std::size_t n = x.size() + y.size();
  std::vector<std::pair<double, std::size_t>> pooled;
  pooled.reserve(n);
  for (std::size_t i = 0; i < x.size(); ++i) pooled.emplace_back(x[i], i);
  for (std::size_t i = 0; i < y.size(); ++i) pooled.emplace_back(y[i], x.size() + i);
  std::sort(pooled.begin(), pooled.end());

  PooledRanks ranks;
  ranks.doubled_rank.assign(n, 0);
  std::size_t first = 0;
  while (first < n) {
    std::size_t last = first;
    while (last + 1 < n && pooled[last + 1].first == pooled[first].first) ++last;
    const long doubled = static_cast<long>(first + 1 + last + 1);
    for (std::size_t k = first; k <= last; ++k) ranks.doubled_rank[pooled[k].second] = doubled;
    const double t = static_cast<double>(last - first + 1);
    if (last > first) {
      ranks.ties = true;
      ranks.tie_term += t * t * t - t;
    }
    first = last + 1;
  }
  return ranks;
}

// Two-sided p-value of the doubled rank sum `observed` of n1 elements drawn from the pooled
// doubled ranks, under the null hypothesis that every n1-subset is equally likely.
double exact_p_value(const std::vector<long> &doubled_rank, std::size_t n1, long observed) {
  const long max_sum = std::accumulate(doubled_rank.begin(), doubled_rank.end(), 0L);
  // count[k][s]: subsets of size k of the ranks seen so far whose doubled sum is s. The
  // counts reach C(n, n1); a double holds them exactly up to 2^53, which covers n <= 55 and
  // stays a close approximation beyond.
  std::vector<std::vector<double>> count(n1 + 1, std::vector<double>(max_sum + 1, 0.0));
  count[0][0] = 1.0;
  std::size_t seen = 0;
  for (const long rank : doubled_rank) {
    ++seen;
    for (std::size_t k = std::min(n1, seen); k >= 1; --k) {
      const std::vector<double> &from = count[k - 1];
      std::vector<double> &to = count[k];
      for (long s = max_sum; s >= rank; --s) to[s] += from[s - rank];
    }
  }
  const std::vector<double> &dist = count[n1];
  double total = 0.0, at_most = 0.0, at_least = 0.0;
  for (long s = 0; s <= max_sum; ++s) {
    total += dist[s];
    if (s <= observed) at_most += dist[s];
    if (s >= observed) at_least += dist[s];
  }
  return std::min(1.0, 2.0 * std::min(at_most, at_least) / total);
}

double normal_p_value(double u1, std::size_t n1, std::size_t n2, double tie_term) {
  const double a = static_cast<double>(n1), b = static_cast<double>(n2);
  const double n = a + b;
  const double mean = a * b / 2.0;
  const double variance = a * b / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
  if (!(variance > 0.0)) return 1.0;  // every value tied: no evidence of a difference
  // Continuity correction: U moves in steps of 1/2 at least, the normal curve does not.
  const double z = std::max(0.0, std::fabs(u1 - mean) - 0.5) / std::sqrt(variance);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace

MannWhitneyResult mann_whitney_u(const std::vector<double> &x, const std::vector<double> &y,
                                 MannWhitneyMethod method) {
  if (x.empty() || y.empty())
    throw std::invalid_argument("Mann-Whitney U test needs at least one value in each sample");
  for (const std::vector<double> *sample : {&x, &y})
    for (double v : *sample)
      if (!std::isfinite(v))
        throw std::invalid_argument("Mann-Whitney U test: values must be finite numbers");

  const PooledRanks ranks = rank_pooled(x, y);
  const std::size_t n1 = x.size(), n2 = y.size();
  long doubled_sum1 = 0;
  for (std::size_t i = 0; i < n1; ++i) doubled_sum1 += ranks.doubled_rank[i];

  MannWhitneyResult result;
  const double a = static_cast<double>(n1);
  result.u1 = static_cast<double>(doubled_sum1) / 2.0 - a * (a + 1.0) / 2.0;
  result.u2 = a * static_cast<double>(n2) - result.u1;
  result.ties = ranks.ties;
  result.exact = method == MannWhitneyMethod::kExact ||
                 (method == MannWhitneyMethod::kAuto && n1 + n2 <= kMannWhitneyExactLimit);
  result.p_value = result.exact ? exact_p_value(ranks.doubled_rank, n1, doubled_sum1)
                                : normal_p_value(result.u1, n1, n2, ranks.tie_term);
  return result;
}

double mann_whitney_min_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1.0;
  // C(n1 + n2, n1) as a product; large values only make the bound smaller, so rounding in
  // the far tail does not matter.
  const std::size_t k = std::min(n1, n2), n = n1 + n2;
  double combinations = 1.0;
  for (std::size_t i = 1; i <= k; ++i)
    combinations = combinations * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::min(1.0, 2.0 / combinations);
}

}  // namespace allocbench
