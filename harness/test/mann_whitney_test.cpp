// The Mann-Whitney U test against values worked out by hand and in textbooks, and the
// exact distribution against brute-force enumeration.
#include "mann_whitney.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace allocbench {
namespace {

TEST(MannWhitney, CompleteSeparationGivesTheSmallestExactP) {
  // Every x below every y: U1 = 0, and only 2 of the C(8, 4) = 70 splits are as extreme.
  const MannWhitneyResult r = mann_whitney_u({1, 2, 3, 4}, {5, 6, 7, 8});
  EXPECT_TRUE(r.exact);
  EXPECT_FALSE(r.ties);
  EXPECT_DOUBLE_EQ(r.u1, 0.0);
  EXPECT_DOUBLE_EQ(r.u2, 16.0);
  EXPECT_NEAR(r.p_value, 2.0 / 70.0, 1e-12);
  EXPECT_NEAR(mann_whitney_u({5, 6, 7, 8}, {1, 2, 3, 4}).p_value, 2.0 / 70.0, 1e-12);
}

TEST(MannWhitney, TextbookExampleExact) {
  // The classic example of SciPy's documentation (ages of male and female staff):
  // U1 = 17; P(U2 <= 3) for sizes 5 and 4 is (1 + 1 + 2 + 3) / C(9, 4) = 7/126, two-sided
  // p = 14/126 = 0.1111.
  const std::vector<double> males = {19, 22, 16, 29, 24}, females = {20, 11, 17, 12};
  const MannWhitneyResult r = mann_whitney_u(males, females);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u1, 17.0);
  EXPECT_DOUBLE_EQ(r.u2, 3.0);
  EXPECT_NEAR(r.p_value, 14.0 / 126.0, 1e-12);
}

TEST(MannWhitney, TextbookExampleNormalApproximation) {
  // Same data, normal approximation with continuity correction: mean 10, variance
  // 5 * 4 * 10 / 12, z = (|17 - 10| - 0.5) / sqrt(16.667) = 1.5922, p = 0.111347 (SciPy's
  // method="asymptotic" gives 0.11134688653314041).
  const MannWhitneyResult r =
      mann_whitney_u({19, 22, 16, 29, 24}, {20, 11, 17, 12}, MannWhitneyMethod::kNormal);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.p_value, 0.11134688653314041, 1e-9);
}

TEST(MannWhitney, TiesUseMidranksAndTheTieCorrection) {
  // Pooled: 1 | 2 2 2 | 3 3 | 4 | 5 -> midranks 1, 3, 3, 3, 5.5, 5.5, 7, 8.
  // x = {1, 2, 2, 3}: R1 = 1 + 3 + 3 + 5.5 = 12.5, U1 = 12.5 - 10 = 2.5.
  const std::vector<double> x = {1, 2, 2, 3}, y = {2, 3, 4, 5};
  const MannWhitneyResult normal = mann_whitney_u(x, y, MannWhitneyMethod::kNormal);
  EXPECT_TRUE(normal.ties);
  EXPECT_DOUBLE_EQ(normal.u1, 2.5);
  // Tie term: (3^3 - 3) + (2^3 - 2) = 30; variance = 16/12 * (9 - 30/56) = 11.2857;
  // z = (5.5 - 0.5) / 3.35942 = 1.48835; p = erfc(z / sqrt 2) = 0.136658.
  EXPECT_NEAR(normal.p_value, 0.13665824773814753, 1e-12);
  // Exact, conditional on the ties: of the 70 splits, 7 have a rank sum <= 12.5
  // ({1,3,3,3} once, {1,3,3,5.5} six ways), so p = 2 * 7 / 70 = 0.2.
  const MannWhitneyResult exact = mann_whitney_u(x, y, MannWhitneyMethod::kExact);
  EXPECT_TRUE(exact.exact);
  EXPECT_NEAR(exact.p_value, 0.2, 1e-12);
}

TEST(MannWhitney, IdenticalSamplesGiveP1) {
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5, 5}, {5, 5, 5}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5, 5}, {5, 5, 5}, MannWhitneyMethod::kNormal).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 2, 3, 4}, {1, 2, 3, 4}).p_value, 1.0);
}

TEST(MannWhitney, AutoSwitchesToTheNormalApproximationForLargeSamples) {
  std::vector<double> x, y;
  for (int i = 0; i < 30; ++i) {
    x.push_back(i);
    y.push_back(i + 0.5);
  }
  EXPECT_FALSE(mann_whitney_u(x, y).exact);
  x.resize(20);
  y.resize(20);
  EXPECT_TRUE(mann_whitney_u(x, y).exact);
}

// Brute force: every split of the pooled sample into sizes n1 and n2.
double brute_force_p(const std::vector<double> &x, const std::vector<double> &y) {
  std::vector<double> pooled = x;
  pooled.insert(pooled.end(), y.begin(), y.end());
  const unsigned n = static_cast<unsigned>(pooled.size());
  auto u_of = [&](std::uint32_t mask) {
    double u = 0;
    for (unsigned i = 0; i < n; ++i)
      if (mask >> i & 1u)
        for (unsigned j = 0; j < n; ++j)
          if (!(mask >> j & 1u))
            u += pooled[i] > pooled[j] ? 1.0 : pooled[i] == pooled[j] ? 0.5 : 0;
    return u;
  };
  const double observed = u_of((1u << x.size()) - 1);
  double total = 0, le = 0, ge = 0;
  for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != x.size()) continue;
    const double u = u_of(mask);
    total += 1;
    le += u <= observed + 1e-9;
    ge += u >= observed - 1e-9;
  }
  return std::min(1.0, 2 * std::min(le, ge) / total);
}

TEST(MannWhitney, ExactMatchesBruteForceWithAndWithoutTies) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const std::size_t n1 = 1 + rng() % 6, n2 = 1 + rng() % 6;
    // Few distinct values half of the time, to make ties.
    const unsigned levels = trial % 2 ? 4 : 1000;
    std::vector<double> x(n1), y(n2);
    for (double &v : x) v = rng() % levels;
    for (double &v : y) v = rng() % levels + (trial % 3);
    EXPECT_NEAR(mann_whitney_u(x, y, MannWhitneyMethod::kExact).p_value, brute_force_p(x, y), 1e-12)
        << "trial " << trial;
  }
}

TEST(MannWhitney, SmallestPossiblePValue) {
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(3, 3), 0.1);  // 2 / C(6, 3)
  EXPECT_NEAR(mann_whitney_min_p(4, 4), 2.0 / 70.0, 1e-15);
  EXPECT_NEAR(mann_whitney_min_p(2, 6), 2.0 / 28.0, 1e-15);
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(1, 1), 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(0, 5), 1.0);
  // It is what complete separation actually gives.
  EXPECT_NEAR(mann_whitney_u({1, 2, 3}, {4, 5, 6}).p_value, mann_whitney_min_p(3, 3), 1e-12);
}

TEST(MannWhitney, RefusesEmptyOrNonFiniteSamples) {
  EXPECT_THROW(mann_whitney_u({}, {1.0}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({1.0}, {}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({1.0, std::nan("")}, {2.0}), std::invalid_argument);
}

}  // namespace
}  // namespace allocbench
