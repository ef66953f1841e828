// Numeric building blocks shared inside stats/: order statistics, the normal distribution and
// the seeded generator the bootstrap draws from. Internal to the library.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace abtool::stats::detail {

double median(std::vector<double> values);
// Linear interpolation between order statistics (Hyndman-Fan type 7, NumPy's default).
double quantile_sorted(const std::vector<double>& sorted, double q);
double mean(std::span<const double> values);
double stddev(std::span<const double> values); // sample (n - 1)
double mad(std::span<const double> values);    // median absolute deviation, unscaled

double normal_cdf(double x);
double normal_quantile(double p); // Acklam's rational approximation, |error| < 1.2e-9

// splitmix64: fully specified, so a seed gives the same resamples on every platform.
class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next();
    std::size_t below(std::size_t bound); // uniform in [0, bound), rejection sampling
    double uniform();                     // [0, 1)

private:
    std::uint64_t m_state;
};

} // namespace abtool::stats::detail
