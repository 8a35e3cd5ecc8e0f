// The Mann-Whitney U test (Wilcoxon rank-sum test), two-sided.
//
// Used by `allocbench compare` to decide whether two sets of repetitions differ. It assumes
// nothing about the shape of the distribution, which suits benchmark timings: they are
// skewed and have outliers, so a t-test on them misleads.
#pragma once

#include <cstddef>
#include <vector>

namespace allocbench {

struct MannWhitneyResult {
  double u1 = 0.0;       // U of the first sample: pairs (x, y) with x > y, ties count 1/2
  double u2 = 0.0;       // n1 * n2 - u1
  double p_value = 1.0;  // two-sided
  bool exact = false;    // true: exact permutation distribution; false: normal approximation
  bool ties = false;     // the pooled sample holds tied values (midranks were used)
};

enum class MannWhitneyMethod {
  kAuto,    // exact for small samples (n1 + n2 <= kMannWhitneyExactLimit), normal otherwise
  kExact,   // exact distribution of the rank sum (conditional on the ties, if any)
  kNormal,  // normal approximation with tie correction and continuity correction
};

// Pooled sizes up to this use the exact distribution under kAuto. Benchmark repetitions are
// almost always far fewer; the exact count stays cheap well beyond it.
inline constexpr std::size_t kMannWhitneyExactLimit = 50;

// Both samples must be non-empty; throws std::invalid_argument otherwise, or when a value is
// not finite.
MannWhitneyResult mann_whitney_u(const std::vector<double> &x, const std::vector<double> &y,
                                 MannWhitneyMethod method = MannWhitneyMethod::kAuto);

// The smallest two-sided p-value the test can give for samples of these sizes (complete
// separation, no ties): 2 / C(n1 + n2, n1), at most 1. When it exceeds the significance
// level, no outcome can be significant: more repetitions are needed.
double mann_whitney_min_p(std::size_t n1, std::size_t n2);

}  // namespace allocbench
