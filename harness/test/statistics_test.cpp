#include "statistics.h"

#include <cmath>

#include <gtest/gtest.h>

namespace allocbench {
namespace {

TEST(Statistics, FiveValues) {
  // mean 3, squared deviations 4+1+0+1+4 = 10, sample variance 10/4 = 2.5.
  const MetricStats s = compute_stats({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 5.0);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_NEAR(s.stddev, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(s.cv, std::sqrt(2.5) / 3.0, 1e-12);
  // t(0.975, 4) = 2.776445, half width = 2.776445 * sqrt(2.5) / sqrt(5) = 1.963243.
  EXPECT_NEAR(s.ci95_low, 3.0 - 1.963243161, 1e-8);
  EXPECT_NEAR(s.ci95_high, 3.0 + 1.963243161, 1e-8);
}

TEST(Statistics, EvenCountMedianAndStddev) {
  // mean 5, squared deviations sum to 32, sample variance 32/7.
  const MetricStats s = compute_stats({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.stddev, 2.138089935, 1e-9);
  // t(0.975, 7) = 2.364624, half width = 2.364624 * 2.138090 / sqrt(8) = 1.787488.
  EXPECT_NEAR(s.ci95_high - s.mean, 1.787487919, 1e-8);
  EXPECT_NEAR(s.mean - s.ci95_low, 1.787487919, 1e-8);
}

TEST(Statistics, SingleValueHasNoSpread) {
  const MetricStats s = compute_stats({42.5});
  EXPECT_DOUBLE_EQ(s.median, 42.5);
  EXPECT_DOUBLE_EQ(s.stddev, 0.0);
  EXPECT_DOUBLE_EQ(s.cv, 0.0);
  EXPECT_DOUBLE_EQ(s.ci95_low, 42.5);
  EXPECT_DOUBLE_EQ(s.ci95_high, 42.5);
}

TEST(Statistics, IdenticalValues) {
  const MetricStats s = compute_stats({7, 7, 7});
  EXPECT_DOUBLE_EQ(s.stddev, 0.0);
  EXPECT_DOUBLE_EQ(s.ci95_low, 7.0);
  EXPECT_DOUBLE_EQ(s.ci95_high, 7.0);
}

TEST(Statistics, ZeroMeanGivesZeroCv) {
  const MetricStats s = compute_stats({-1, 1});
  EXPECT_DOUBLE_EQ(s.mean, 0.0);
  EXPECT_DOUBLE_EQ(s.cv, 0.0);
  EXPECT_NEAR(s.stddev, std::sqrt(2.0), 1e-12);
}

TEST(Statistics, EmptyIsRefused) {
  EXPECT_THROW(compute_stats({}), std::invalid_argument);
}

TEST(Statistics, StudentTQuantiles) {
  // Reference values of the 0.975 quantile (standard tables).
  EXPECT_NEAR(student_t_95(1), 12.7062047, 1e-6);
  EXPECT_NEAR(student_t_95(2), 4.3026527, 1e-6);
  EXPECT_NEAR(student_t_95(9), 2.2621572, 1e-6);
  EXPECT_NEAR(student_t_95(30), 2.0422725, 1e-6);
  // Past the table: the expansion.
  EXPECT_NEAR(student_t_95(31), 2.0395134, 1e-6);
  EXPECT_NEAR(student_t_95(40), 2.0210754, 1e-6);
  EXPECT_NEAR(student_t_95(60), 2.0002978, 1e-6);
  EXPECT_NEAR(student_t_95(120), 1.9799304, 1e-6);
  EXPECT_NEAR(student_t_95(100000), 1.9599877, 1e-6);  // z + (z^3 + z) / 4n
  EXPECT_THROW(student_t_95(0), std::invalid_argument);
}

TEST(Statistics, MedianAndMeanHelpers) {
  EXPECT_TRUE(std::isnan(median({})));
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(mean({1, 2, 3, 4}), 2.5);
  EXPECT_DOUBLE_EQ(sample_stddev({1}), 0.0);
}

}  // namespace
}  // namespace allocbench
